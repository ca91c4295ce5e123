"""The degradations added for the measured weak spots, and the pen-drawn canvas style."""

import numpy as np
import pytest
import torch

from hieralign.data.augment import AugmentConfig, GlyphAugment, make_generator

STEPS = ("p_affine", "p_width", "p_brush", "p_lowres", "p_blur", "p_jpeg", "p_contrast", "p_specks", "p_noise")


def _glyphs():
    x = torch.zeros(12, 1, 64, 64)
    x[:, :, 10:54, 29:34] = 1.0  # a vertical bar
    x[:, :, 20:25, 8:56] = 1.0  # a horizontal bar
    return x


def _only(step: str, **extra) -> GlyphAugment:
    return GlyphAugment(AugmentConfig(**{**{s: 0.0 for s in STEPS}, step: 1.0, **extra}))


@pytest.mark.parametrize("step", ["p_brush", "p_lowres", "p_jpeg", "p_specks"])
def test_each_degradation_changes_the_image_keeps_ink_and_is_seeded(step):
    x = _glyphs()
    aug = _only(step)
    y = aug(x, make_generator(3))
    assert not torch.allclose(y, x, atol=1e-3)
    assert torch.equal(y, aug(x, make_generator(3)))
    assert not torch.equal(y, aug(x, make_generator(4)))
    ink = y.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert (ink > 0.6).all() and (ink < 1.6).all()
    assert (y[:, :, 30:50, 29:34].mean(dim=(1, 2, 3)) > 0.5).all()  # the bar is still there


def test_lowres_loses_detail_at_the_target_side():
    x = torch.zeros(4, 1, 64, 64)
    x[:, :, :, ::2] = 1.0  # 1-px stripes cannot survive a 20-32 px detour
    y = _only("p_lowres")(x, make_generator(0))
    assert y.std() < 0.2 * x.std()


def test_specks_put_ink_on_paper_and_holes_in_strokes():
    x = _glyphs()
    y = _only("p_specks", speck_density=(0.05, 0.05))(x, make_generator(0))
    assert (y[x == 0] == 1).float().mean() > 0.01  # specks on the paper
    assert (y[x == 1] == 0).float().mean() > 0.01  # holes in the strokes


def test_jpeg_works_on_independent_8x8_blocks():
    """Changing one 8x8 block changes the output in that block only, and coarse quality changes it."""
    x = _glyphs()[:2]
    aug = _only("p_jpeg", jpeg_quality=(10.0, 10.0))
    y = aug(x, make_generator(0))
    assert (y - x).abs().mean() > 0.005
    x2 = x.clone()
    x2[:, :, 16:24, 24:32] = 0.5
    y2 = aug(x2, make_generator(0))
    changed = (y2 - y).abs().amax(dim=(0, 1)) > 1e-6
    assert changed[16:24, 24:32].any()
    changed[16:24, 24:32] = False
    assert not changed.any()


def test_brush_thickens_only_part_of_the_glyph():
    x = _glyphs()
    y = _only("p_brush")(x, make_generator(0))
    grown = (y > x + 0.05).float()
    assert grown.sum() > 0
    share = grown.mean(dim=(1, 2, 3)) / (x > 0).float().mean(dim=(1, 2, 3))
    assert (share < 0.5).all()  # a smooth mask: not a uniform dilation of every stroke


def test_canvas_style_is_uniform_width_full_ink_and_deterministic():
    from hieralign.data.handwriting import HandwritingConfig, sample_rng, synthesize_canvas
    from hieralign.knowledge.strokes import StrokeDatabase

    db = StrokeDatabase.load()
    cfg = HandwritingConfig()
    one = synthesize_canvas(db.paths("一"), sample_rng(0, "一", 0), cfg)
    assert one.max() == 255 and np.array_equal(one, synthesize_canvas(db.paths("一"), sample_rng(0, "一", 0), cfg))
    rows = np.flatnonzero((one > 128).any(axis=1))
    cols = np.flatnonzero((one > 128).any(axis=0))
    assert len(cols) > 3 * len(rows)  # 一 stays a thin horizontal line (aspect ratio kept)
    # uniform width: the ink column heights along the stroke barely vary (no taper, no press)
    heights = (one[:, cols[5:-5]] > 128).sum(axis=0)
    assert heights.max() - heights.min() <= 3
    ai = synthesize_canvas(db.paths("愛"), sample_rng(0, "愛", 1), cfg)
    assert not np.array_equal(ai, synthesize_canvas(db.paths("愛"), sample_rng(0, "愛", 2), cfg))


def test_data_build_renders_the_canvas_style(tmp_path):
    from hieralign.data.build import main
    from hieralign.data.store import GlyphStore

    out = tmp_path / "store"
    assert main(["--charset", "joyo", "--split", "none", "--styles", "canvas", "--canvas-per-char", "2",
                 "--limit-chars", "5", "--workers", "1", "--out", str(out)]) == 0
    store = GlyphStore.open(out)
    assert len(store) == 10 and store.style_names == ["canvas"] and store.source_names == ["synthetic-canvas"]
