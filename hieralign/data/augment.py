"""Seeded glyph augmentation on whole batches in torch (no per-sample Python loop).

Input: a uint8 or float batch (B,1,H,W) of ink intensity. Output: float32 (B,1,H,W) in [0,1].
Every random number comes from the `torch.Generator` passed in, so the same seed gives the same
batch. No flips: a mirrored kanji is another character or none.

Steps (each applied to a random subset of the batch with its own probability):
  affine (rotation, shear, anisotropic scale, translation) -> stroke width (dilate / erode via
  max-pooling) -> brush (directional dilation, varying across the glyph) -> low resolution
  (down to 20-32 px and back) -> blur -> JPEG-like 8x8 DCT quantisation -> contrast/ink level ->
  salt-and-pepper specks -> noise.
The degradations mirror the measured weak spots (issue 10): scans at low resolution, blurred,
dilated/eroded, speckled and JPEG-compressed, and brush faces whose width varies along a stroke.
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
    p_brush: float = 0.2  # probability of brush-like width variation per sample
    p_lowres: float = 0.25  # probability of down-up sampling per sample
    lowres_px: tuple[int, int] = (20, 32)  # side the glyph is downsampled to (one per batch), then back
    p_blur: float = 0.3  # probability of Gaussian blur per sample
    blur_sigma: tuple[float, float] = (0.4, 1.2)  # blur sigma range in pixels
    p_contrast: float = 0.5  # probability of changing ink level / gamma per sample
    ink_range: tuple[float, float] = (0.55, 1.0)  # peak ink multiplier
    gamma_range: tuple[float, float] = (0.7, 1.4)  # gamma applied to ink
    p_jpeg: float = 0.15  # probability of JPEG-like blockiness (8x8 DCT quantisation) per sample
    jpeg_quality: tuple[float, float] = (10.0, 50.0)  # JPEG quality range (lower = coarser blocks)
    p_specks: float = 0.15  # probability of salt-and-pepper specks per sample
    speck_density: tuple[float, float] = (0.002, 0.02)  # share of pixels flipped to ink or paper
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
    lo, hi = cfg.lowres_px
    side = int(torch.randint(lo, hi + 1, (1,), generator=g, device=x.device))
    f = min(1.0, side / max(h, w))

    def down_up(sub: torch.Tensor, _) -> torch.Tensor:
        small = F.interpolate(sub, size=(max(4, round(h * f)), max(4, round(w * f))), mode="area")
        return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)

    return _on_subset(x, _chance(n, cfg.p_lowres, g, x.device), down_up)


def _directional_dilate(x: torch.Tensor, kind: torch.Tensor) -> torch.Tensor:
    """Per sample, a 3-pixel max filter along one of 4 directions (0: -, 1: |, 2: \\, 3: /): the
    wide side of a flat brush or a slanted nib."""
    pad = F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]

    def shift(dy: int, dx: int) -> torch.Tensor:
        return pad[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    options = torch.stack([torch.maximum(x, torch.maximum(shift(0, -1), shift(0, 1))),
                           torch.maximum(x, torch.maximum(shift(-1, 0), shift(1, 0))),
                           torch.maximum(x, torch.maximum(shift(-1, -1), shift(1, 1))),
                           torch.maximum(x, torch.maximum(shift(-1, 1), shift(1, -1)))], 1)
    return options[torch.arange(len(x), device=x.device), kind]


def brush(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Brush-like width: a directional dilation blended in by a smooth random mask, so strokes
    thicken in some parts of the glyph and not in others."""
    n, _, h, w = x.shape
    kind = torch.randint(0, 4, (n,), generator=g, device=x.device)
    mask = F.interpolate(torch.rand(n, 1, 4, 4, generator=g, device=x.device), size=(h, w), mode="bilinear",
                         align_corners=False)

    def vary(sub: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        m = mask[idx]
        return m * _directional_dilate(sub, kind[idx]) + (1 - m) * sub

    return _on_subset(x, _chance(n, cfg.p_brush, g, x.device), vary)


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


def specks(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Salt-and-pepper: a random share of pixels set to full ink (specks) or paper (holes)."""
    n, dev = x.shape[0], x.device
    density = _uniform(n, *cfg.speck_density, g, dev).view(n, 1, 1, 1)
    flip = torch.rand(x.shape, generator=g, device=dev)
    value = (torch.rand(x.shape, generator=g, device=dev) < 0.5).to(x.dtype)
    return _on_subset(x, _chance(n, cfg.p_specks, g, dev),
                      lambda sub, idx: torch.where(flip[idx] < density[idx], value[idx], sub))


_JPEG_LUMA = torch.tensor([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=torch.float32)


def _dct_matrix(n: int = 8) -> torch.Tensor:
    k = torch.arange(n, dtype=torch.float32)
    d = torch.cos(math.pi * (2 * k[None] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    d[0] /= math.sqrt(2)
    return d  # orthonormal DCT-II: coefficients = D @ block @ D.T


def jpeg(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """JPEG-like blockiness: 8x8 DCT, coefficients rounded to the standard luminance table scaled
    for a random quality (the IJG formula), inverse DCT. Images are padded to a multiple of 8."""
    n, _, h, w = x.shape
    quality = _uniform(n, *cfg.jpeg_quality, g, x.device)
    scale = torch.where(quality < 50, 5000 / quality, 200 - 2 * quality)
    d = _dct_matrix().to(x.device, x.dtype)
    table = _JPEG_LUMA.to(x.device, x.dtype)

    def compress(sub: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        m, ph, pw = len(idx), -h % 8, -w % 8
        y = F.pad(sub, (0, pw, 0, ph), mode="replicate") * 255 - 128
        hb, wb = (h + ph) // 8, (w + pw) // 8
        blocks = y.view(m, hb, 8, wb, 8).permute(0, 1, 3, 2, 4)  # (m, hb, wb, 8, 8)
        q = ((table[None] * scale[idx, None, None] + 50) / 100).floor().clamp_min(1)[:, None, None]
        coeffs = torch.round((d @ blocks @ d.t()) / q) * q
        y = (d.t() @ coeffs @ d).permute(0, 1, 3, 2, 4).reshape(m, 1, h + ph, w + pw)
        return ((y + 128) / 255)[..., :h, :w]

    return _on_subset(x, _chance(n, cfg.p_jpeg, g, x.device), compress)


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
        for step in (affine, stroke_width, brush, lowres, blur, jpeg, contrast, specks, noise):
            x = step(x, self.cfg, g)
        return x.clamp_(0.0, 1.0)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(seed))
