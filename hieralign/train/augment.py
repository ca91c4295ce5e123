"""Batch augmentation for training: `hieralign.data.augment` when present, else a small affine jitter.

Always seeded by the caller's generator (exact resume) and never mirrored (a flipped kanji is
another character or none).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment_batch(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(B,1,H,W) float in [0,1] -> augmented batch of the same shape."""
    try:
        from hieralign.data import augment as data_augment
    except ImportError:
        return affine_jitter(images, gen)
    return data_augment.augment_batch(images, generator=gen)


def affine_jitter(images: torch.Tensor, gen: torch.Generator, scale: float = 0.12, rotate: float = 0.12,
                  shear: float = 0.12, shift: float = 0.06) -> torch.Tensor:
    """Random scale/rotation/shear/shift per image (bilinear), plus random ink-weight gamma."""
    b = images.shape[0]

    def u(r: float) -> torch.Tensor:
        return (torch.rand(b, generator=gen) * 2 - 1) * r

    s, a, sh = 1 + u(scale), u(rotate), u(shear)
    cos, sin = torch.cos(a), torch.sin(a)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / s, (-sin + sh) / s
    theta[:, 1, 0], theta[:, 1, 1] = sin / s, cos / s
    theta[:, 0, 2], theta[:, 1, 2] = u(shift), u(shift)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = torch.exp(u(0.4)).view(b, 1, 1, 1)
    return out.clamp(0, 1).pow(gamma)
