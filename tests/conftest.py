"""Shared test setup: quiet progress bars, deterministic threads, a per-session cache dir."""

from __future__ import annotations

import glob
import os

import pytest

os.environ.setdefault("HIERALIGN_NO_PROGRESS", "1")


@pytest.fixture(autouse=True, scope="session")
def _limit_threads():
    import torch

    # Two cores on CI: oversubscription makes every test slower, not faster.
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield


# -- fixtures shared by several test packages (session-scoped: built once per run) --


@pytest.fixture(scope="session")
def tiny_chars():
    """24 seen kanji to train on and 12 unseen kanji for zero-shot (ETL9G-ZS, m=500)."""
    from train.storefix import SEEN_M

    from hieralign.knowledge import protocols

    seen, unseen = protocols.split("etl9g-zs", SEEN_M)
    return seen[71:95], unseen[:12]


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory, tiny_chars):
    from train.storefix import render_store

    seen, _ = tiny_chars
    return render_store(tmp_path_factory.mktemp("store") / "train", seen)


@pytest.fixture(scope="session")
def tiny_checkpoint():
    """A real Hi-GITA checkpoint, trained for seconds on 16 kanji rendered from IPA fonts."""
    from hieralign.testing.tiny import cached_tiny_checkpoint

    return cached_tiny_checkpoint()


@pytest.fixture(scope="session")
def export_dir(tiny_checkpoint, tmp_path_factory):
    from hieralign.export.char_export import CharExportConfig, export_char

    out = tmp_path_factory.mktemp("export")
    export_char(CharExportConfig(model=str(tiny_checkpoint), out=str(out), int8=True, candidates=["etl9g"],
                                 calibration=64, parity_images=16))
    return out


@pytest.fixture(scope="session")
def line_model_dir(tmp_path_factory):
    """A tiny line-CLIP (DINOv2 + ByT5 'tiny' configs, 2 steps) on 5 synthetic Tibetan documents."""
    from hieralign.data.lines.synth import discover_tibetan_fonts
    from hieralign.testing.tiny import build_tiny_line_model

    if not discover_tibetan_fonts():
        pytest.skip("no Tibetan font installed (fonts-tibetan-machine)")
    return build_tiny_line_model(tmp_path_factory.mktemp("line"))


# -- line fixtures: tiny rendered datasets (Tibetan when a font is installed) --


@pytest.fixture(scope="session")
def latin_font() -> str:
    found = sorted(glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True))
    if not found:
        pytest.skip("DejaVu Sans not installed (fonts-dejavu-core)")
    return found[0]


@pytest.fixture(scope="session")
def tibetan_fonts():
    from hieralign.data.lines.synth import discover_tibetan_fonts

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


@pytest.fixture(scope="session")
def ctc_model_dir(tmp_path_factory, tibetan_fonts):
    """(model dir, dataset dir): a tiny CTC line recogniser trained by the real engine (250 steps,
    ~25 s) on the 8 short print lines of its dataset's train.jsonl, which it reads back mostly right."""
    from hieralign.testing.tiny import build_tiny_ctc_model

    return build_tiny_ctc_model(tmp_path_factory.mktemp("ctc"))
