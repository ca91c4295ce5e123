import numpy as np
import pytest
import torch

from hieralign.data.augment import AugmentConfig, GlyphAugment, make_generator
from hieralign.data.handwriting import HandwritingConfig, sample_rng, stroke_kind, synthesize, width_profile
from hieralign.data.render import ink_bbox

# A synthetic 3-stroke "character": horizontal, vertical, left-falling sweep.
PATHS = [
    np.array([[0.1, 0.3], [0.9, 0.3]], np.float32),
    np.array([[0.5, 0.1], [0.5, 0.9]], np.float32),
    np.array([[0.5, 0.5], [0.35, 0.7], [0.1, 0.85]], np.float32),
]


def test_synthesis_is_seeded_and_varied():
    cfg = HandwritingConfig(size=48, margin=3)
    a = synthesize(PATHS, sample_rng(0, "十", 0), cfg)
    b = synthesize(PATHS, sample_rng(0, "十", 0), cfg)
    c = synthesize(PATHS, sample_rng(0, "十", 1), cfg)
    assert a.dtype == np.uint8 and a.shape == (48, 48)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    top, bottom, left, right = ink_bbox(a, 16)
    assert max(bottom - top, right - left) >= 40  # fitted into the box like printed glyphs
    assert 0.05 < (a > 64).mean() < 0.5  # strokes, not a blob or nothing
    assert 150 < a.max() <= 255


def test_stroke_widths_follow_the_profile():
    t = np.linspace(0, 1, 50)
    harai = width_profile(t, "harai", brush=1.0)
    assert harai[-1] < 0.3 * harai[25]  # a sweep thins out at the tail
    dot = width_profile(t, "dot", brush=1.0)
    assert dot[-1] > dot[5]
    pen = width_profile(t, "harai", brush=0.0)
    assert pen.max() - pen.min() < 0.2  # a ballpoint barely changes width
    assert stroke_kind("㇒", PATHS[2]) == "harai" and stroke_kind("㇐", PATHS[0]) == "tome"
    assert stroke_kind("", PATHS[2]) == "harai" and stroke_kind("", PATHS[1]) == "tome"


def test_kanjivg_character():
    from hieralign.knowledge.strokes import StrokeDatabase

    db = StrokeDatabase.load()
    img = synthesize(db.paths("永"), sample_rng(3, "永", 0), None, db.types("永"))
    assert img.shape == (64, 64) and img.max() > 150


def _batch():
    x = torch.zeros(16, 1, 32, 32, dtype=torch.uint8)
    x[:, :, 8:24, 14:18] = 255
    x[:, :, 14:18, 6:26] = 255
    return x


def test_augment_deterministic_and_in_range():
    aug = GlyphAugment()
    x = _batch()
    a = aug(x, make_generator(1))
    assert a.dtype == torch.float32 and a.shape == x.shape
    assert torch.equal(a, aug(x, make_generator(1)))
    assert not torch.equal(a, aug(x, make_generator(2)))
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a[0], a[1])  # per-sample parameters


def test_augment_steps_do_what_they_say():
    x = _batch()
    off = dict(p_affine=0, p_width=0, p_lowres=0, p_blur=0, p_contrast=0, p_noise=0, p_brush=0, p_jpeg=0, p_specks=0)
    ident = GlyphAugment(AugmentConfig(**off))(x, make_generator(0))
    assert torch.allclose(ident, x.float() / 255)
    thick = GlyphAugment(AugmentConfig(**{**off, "p_width": 1.0, "p_erode": 0.0}))(x, make_generator(0))
    assert thick.sum() > ident.sum()
    blurred = GlyphAugment(AugmentConfig(**{**off, "p_blur": 1.0}))(x, make_generator(0))
    assert torch.allclose(blurred.sum(dim=(1, 2, 3)), ident.sum(dim=(1, 2, 3)), rtol=0.02)
    assert (blurred[:, :, 8:24, 13] > 0).all()  # ink spread to the neighbours
    rotated = GlyphAugment(AugmentConfig(**{**off, "p_affine": 1.0}))(x, make_generator(0))
    assert not torch.allclose(rotated, ident)


@pytest.mark.parametrize("seed", range(3))
def test_no_flips(seed):
    """An asymmetric glyph keeps its handedness: its ink centroid stays on the same side."""
    x = torch.zeros(32, 1, 32, 32, dtype=torch.uint8)
    x[:, :, 4:28, 4:10] = 255  # a bar on the left
    y = GlyphAugment(AugmentConfig(p_noise=0))(x, make_generator(seed))
    cols = torch.arange(32).float()
    centroid = (y.sum(dim=(1, 2)) * cols).sum(1) / y.sum(dim=(1, 2, 3))
    assert (centroid < 14).all()
