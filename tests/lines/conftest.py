"""Fixtures for line tests: tiny rendered datasets (Tibetan when a font is installed, else Latin)."""

from __future__ import annotations

import glob

import pytest

from hieralign.data.lines.synth import discover_tibetan_fonts


@pytest.fixture(scope="session")
def latin_font() -> str:
    found = sorted(glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True))
    if not found:
        pytest.skip("DejaVu Sans not installed (fonts-dejavu-core)")
    return found[0]


@pytest.fixture(scope="session")
def tibetan_fonts():
    fonts = discover_tibetan_fonts()
    if not fonts:
        pytest.skip("no Tibetan font installed: run scripts/setup.sh (installs fonts-tibetan-machine)")
    return fonts


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tibetan_fonts):
    """12 documents x 4 lines of synthetic Tibetan, with train/val/test manifests."""
    from hieralign.data.lines.synth_cli import SynthConfig, build_dataset
    from hieralign.data.lines.text import bospell_words

    out = tmp_path_factory.mktemp("lines")
    cfg = SynthConfig(str(out), num_docs=12, lines_per_doc=4, min_words=2, max_words=4, seed=3, test_docs_per_face=0)
    build_dataset(cfg, tibetan_fonts, bospell_words())
    return out
