"""Fixtures for the line-synthesis tests: pinned Tibetan faces and a tiny dataset (latin_font is in
the root conftest)."""

from __future__ import annotations

import pytest
from ocrfix import CURSIVE_TEST_ONLY, CURSIVE_TRAIN, PRINT_TRAIN, face, render_tiny_dataset


@pytest.fixture(scope="session")
def print_face():
    return face(PRINT_TRAIN)


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory, print_face):
    """12 training documents x 4 lines (print + degraded), plus test docs of Monlam Uni Chouk when installed."""
    faces = [print_face, face(CURSIVE_TRAIN)]
    try:
        faces.append(face(CURSIVE_TEST_ONLY))
    except pytest.skip.Exception:
        pass
    out = tmp_path_factory.mktemp("lines")
    render_tiny_dataset(out, faces, num_docs=12, test_docs_per_face=1)
    return out, faces
