"""Whole-batch line augmentation: deterministic from the generator, shapes and padding kept."""

import torch

from hieralign.data.lines.augment import LineAugmentConfig, augment_lines


def _batch():
    images = torch.zeros((4, 1, 48, 200))
    images[:, :, 18:30, 10:150] = 1.0  # a bar of ink in every line
    images[:, :, 10:38, 60:64] = 1.0  # and a vertical stroke
    return images, torch.tensor([200, 180, 160, 150])


def test_same_generator_same_result_and_padding_stays_blank():
    images, widths = _batch()
    a, wa = augment_lines(images, widths, torch.Generator().manual_seed(3))
    b, wb = augment_lines(images, widths, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and torch.equal(wa, wb)
    assert a.shape[:3] == images.shape[:3] and 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    for line, width in zip(a, wa):
        assert float(line[..., int(width):].abs().sum()) == 0.0


def test_strong_lines_change_shape_and_weak_ones_only_tone():
    images, widths = _batch()
    only_tone = LineAugmentConfig(strong=0.0, width_scale=0.0, max_shift=0)
    out, _ = augment_lines(images, widths, torch.Generator().manual_seed(1), only_tone)
    ink = out > 0.3
    assert torch.equal(ink[:, :, :, :140], images[:, :, :, :140].bool())  # geometry untouched
    strong = LineAugmentConfig(strong=1.0, width_scale=0.0, max_shift=0, stroke_p=0, blur_p=0, uneven_p=0,
                               speck_p=0, threshold_p=0)
    warped, _ = augment_lines(images, widths, torch.Generator().manual_seed(1), strong)
    # sheared: the vertical stroke's top and bottom rows no longer sit in the same columns
    top, bottom = warped[:, 0, 11].argmax(-1), warped[:, 0, 36].argmax(-1)
    assert (top != bottom).any()
