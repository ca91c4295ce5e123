"""Seeded glyph augmentation on whole batches in torch (no per-sample Python loop).

Input: a uint8 or float batch (B,1,H,W) of ink intensity. Output: float32 (B,1,H,W) in [0,1].
Every random number comes from the `torch.Generator` passed in, so the same seed gives the same
batch. No flips: a mirrored kanji is another character or none.

Steps (each applied to a random subset of the batch with its own probability):
  affine (rotation, shear, anisotropic scale, translation) -> stroke width (dilate / erode via
  max-pooling) -> low-resolution down-up sampling -> blur -> contrast/ink level -> noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    p_affine: float = 0.9  # probability of the affine warp per sample
    rotation_deg: float = 8.0  # max |rotation| in degrees
    shear: float = 0.15  # max |shear| (x shear factor)
    scale: tuple[float, float] = (0.85, 1.08)  # per-axis scale range
    translate: float = 0.06  # max |shift| as a fraction of the image side
    p_width: float = 0.4  # probability of changing stroke width per sample
    p_erode: float = 0.35  # of those, fraction thinned instead of thickened
    p_lowres: float = 0.2  # probability of down-up sampling per sample
    lowres_factor: tuple[float, float] = (0.35, 0.7)  # downsample factor range (one per batch)
    p_blur: float = 0.3  # probability of Gaussian blur per sample
    blur_sigma: tuple[float, float] = (0.4, 1.2)  # blur sigma range in pixels
    p_contrast: float = 0.5  # probability of changing ink level / gamma per sample
    ink_range: tuple[float, float] = (0.55, 1.0)  # peak ink multiplier
    gamma_range: tuple[float, float] = (0.7, 1.4)  # gamma applied to ink
    p_noise: float = 0.3  # probability of additive Gaussian noise per sample
    noise_std: tuple[float, float] = (0.02, 0.08)  # noise std range (in [0,1] units)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device) * (hi - lo) + lo


def _chance(n: int, p: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device) < p


def _on_subset(x: torch.Tensor, chosen: torch.Tensor, fn) -> torch.Tensor:
    """Apply `fn(x[idx], idx)` only to the chosen samples (the costly part scales with p)."""
    idx = torch.nonzero(chosen).view(-1)
    if idx.numel() == 0:
        return x
    out = x.clone()
    out[idx] = fn(x[idx], idx)
    return out


def affine(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, dev = x.shape[0], x.device
    rot = _uniform(n, -cfg.rotation_deg, cfg.rotation_deg, g, dev) * math.pi / 180
    shear = _uniform(n, -cfg.shear, cfg.shear, g, dev)
    sx, sy = _uniform(n, *cfg.scale, g, dev), _uniform(n, *cfg.scale, g, dev)
    tx, ty = (_uniform(n, -cfg.translate, cfg.translate, g, dev) * 2 for _ in range(2))
    cos, sin = torch.cos(rot), torch.sin(rot)
    # grid_sample maps output coords to input coords, so this is the inverse warp; fine for
    # random symmetric ranges.
    a = torch.stack([torch.stack([cos / sx, (-sin + shear * cos) / sx, tx], 1),
                     torch.stack([sin / sy, (cos + shear * sin) / sy, ty], 1)], 1)

    def warp(sub: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(a[idx], list(sub.shape), align_corners=False)
        return F.grid_sample(sub, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    return _on_subset(x, _chance(n, cfg.p_affine, g, dev), warp)


def _dilate(x: torch.Tensor) -> torch.Tensor:
    # separable 3x3 max filter: two 1-D passes are cheaper than one 2-D pass
    x = F.max_pool2d(x, (1, 3), stride=1, padding=(0, 1))
    return F.max_pool2d(x, (3, 1), stride=1, padding=(1, 0))


def stroke_width(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, dev = x.shape[0], x.device
    apply = _chance(n, cfg.p_width, g, dev)
    erode = _chance(n, cfg.p_erode, g, dev)
    # erosion of a soft edge would delete thin strokes; blend half-way to keep them
    x = _on_subset(x, apply & erode, lambda sub, _: 0.5 * (sub - _dilate(-sub)))
    return _on_subset(x, apply & ~erode, lambda sub, _: _dilate(sub))


def lowres(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    f = float(_uniform(1, *cfg.lowres_factor, g, x.device))

    def down_up(sub: torch.Tensor, _) -> torch.Tensor:
        small = F.interpolate(sub, size=(max(4, round(h * f)), max(4, round(w * f))), mode="area")
        return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)

    return _on_subset(x, _chance(n, cfg.p_lowres, g, x.device), down_up)


def blur(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    sigma = _uniform(n, *cfg.blur_sigma, g, x.device)
    radius = int(math.ceil(2 * cfg.blur_sigma[1]))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)

    def gauss(sub: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        m = len(idx)
        k1 = torch.exp(-(t[None] ** 2) / (2 * sigma[idx, None] ** 2))
        k1 = k1 / k1.sum(1, keepdim=True)  # (m, k): one separable kernel per sample
        y = sub.reshape(1, m, h, w)
        y = F.conv2d(F.pad(y, (radius, radius, 0, 0)), k1.view(m, 1, 1, -1), groups=m)
        y = F.conv2d(F.pad(y, (0, 0, radius, radius)), k1.view(m, 1, -1, 1), groups=m)
        return y.view(m, 1, h, w)

    return _on_subset(x, _chance(n, cfg.p_blur, g, x.device), gauss)


def contrast(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, dev = x.shape[0], x.device
    ink = _uniform(n, *cfg.ink_range, g, dev).view(n, 1, 1, 1)
    gamma = _uniform(n, *cfg.gamma_range, g, dev).view(n, 1, 1, 1)
    return _on_subset(x, _chance(n, cfg.p_contrast, g, dev),
                      lambda sub, idx: sub.clamp(0, 1).pow(gamma[idx]) * ink[idx])


def noise(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    n, dev = x.shape[0], x.device
    std = _uniform(n, *cfg.noise_std, g, dev).view(n, 1, 1, 1)
    chosen = _chance(n, cfg.p_noise, g, dev)
    # draw noise for the chosen samples only, but always the same count for a given mask
    return _on_subset(x, chosen, lambda sub, idx: sub + torch.randn(
        sub.shape, generator=g, device=dev, dtype=sub.dtype) * std[idx])


class GlyphAugment:
    """`GlyphAugment(cfg)(batch, generator) -> float32 (B,1,H,W) in [0,1]`."""

    def __init__(self, cfg: AugmentConfig | None = None):
        self.cfg = cfg or AugmentConfig()

    def __call__(self, batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if batch.dim() == 3:
            batch = batch[:, None]
        x = batch.to(torch.float32)
        if batch.dtype == torch.uint8:
            x = x / 255.0
        g = generator if generator is not None else torch.Generator(device=x.device).manual_seed(0)
        for step in (affine, stroke_width, lowres, blur, contrast, noise):
            x = step(x, self.cfg, g)
        return x.clamp_(0.0, 1.0)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(seed))
