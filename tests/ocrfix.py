"""Shared helpers for the Tibetan line tests: pinned faces, skipped cleanly when absent.

Tests pin faces by registry name so a newly installed package (fonts-monlam, Noto) never changes
what a test renders; a test whose face is missing skips with the package to install.
"""

from __future__ import annotations

import pytest

from hieralign.data.fonts import TibetanFace, discover_tibetan_faces

PRINT_TRAIN = "Tibetan Machine Uni"  # fonts-tibetan-machine (apt-packages.txt)
CURSIVE_TRAIN = "Sambhota Tsugring"  # fonts-sambhota-tsugring
CURSIVE_TEST_ONLY = "Monlam Uni Chouk"  # fonts-monlam (bench-setup)


def face(family: str) -> TibetanFace:
    """The first installed face of a registry family, or skip the test."""
    for found in discover_tibetan_faces():
        if found.family == family:
            return found
    pytest.skip(f"Tibetan face {family!r} not installed")


def render_tiny_dataset(out, faces: list[TibetanFace], num_docs: int = 6, lines_per_doc: int = 4,
                        seed: int = 3, **kwargs):
    """A few documents of short synthetic Tibetan lines through the real `data lines` code."""
    from hieralign.data.lines.synth_cli import SynthConfig, build_dataset
    from hieralign.data.lines.text import bospell_words

    cfg = SynthConfig(str(out), num_docs=num_docs, lines_per_doc=lines_per_doc, min_words=2, max_words=4,
                      seed=seed, **kwargs)
    return build_dataset(cfg, faces, bospell_words(cfg.syllable_fraction))
