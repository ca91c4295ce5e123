import numpy as np
import pytest
from PIL import Image

from hieralign.models.char.preprocess import (
    NoInkError,
    collect_images,
    load_gray,
    prepare_glyph,
    to_ink,
    to_tensor,
)
from hieralign.models.char.recognizer import resolve_candidates


def _glyph() -> np.ndarray:
    ink = np.zeros((80, 60), np.uint8)
    ink[20:60, 28:33] = 255  # a vertical stroke
    ink[30:34, 10:50] = 200  # a lighter horizontal stroke
    return ink


def test_dark_ink_on_grey_paper_frames_like_the_ink_image():
    ink = _glyph()
    scan = (180 - ink.astype(np.int16) * 150 // 255).astype(np.uint8)  # grey paper 180, dark ink ~30
    clean, scanned = prepare_glyph(ink), prepare_glyph(scan)
    assert clean.shape == scanned.shape == (64, 64)
    assert np.abs(clean.astype(int) - scanned.astype(int)).mean() < 8  # same framing, similar ink
    assert np.array_equal(to_ink(255 - ink), ink) and np.array_equal(to_ink(ink), ink)


def test_blank_or_tiny_image_raises_no_ink_and_tensor_is_scaled():
    for blank in (np.full((30, 30), 255, np.uint8), np.zeros((1, 1), np.uint8), np.full((1, 1), 255, np.uint8)):
        with pytest.raises(NoInkError, match="no ink found"):
            prepare_glyph(blank)
    t = to_tensor([prepare_glyph(_glyph())])
    assert t.shape == (1, 1, 64, 64) and 0 <= float(t.min()) and float(t.max()) <= 1


def test_load_gray_handles_transparency_and_folders(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[5:15, 9:11] = (0, 0, 0, 255)  # black stroke, the rest transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    gray = load_gray(tmp_path / "a.png")
    assert gray[0, 0] == 255 and gray[10, 10] == 0  # transparent = paper
    (tmp_path / "notes.txt").write_text("x")
    assert collect_images([str(tmp_path)]) == [tmp_path / "a.png"]
    with pytest.raises(FileNotFoundError, match="missing"):
        collect_images([str(tmp_path / "missing")])
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="bad.png"):
        load_gray(tmp_path / "bad.png")


def test_candidates_from_names_and_lists():
    assert resolve_candidates(["漢", "字", "漢", " "]) == ["漢", "字"]
    assert len(resolve_candidates("etl9g")) == 3036
    with pytest.raises(ValueError):
        resolve_candidates([])
