"""Whole-batch augmentation of height-normalised line images for the CTC recogniser.

Images are ink intensity (0 = paper, 1 = ink), (B, 1, H, W), zero-padded right of `widths`.
Everything runs as a few batched torch ops drawn from the engine's generator, so a step costs
about the same with or without it and resume stays exact.

Why these: the rendered training lines already carry scan damage (`synth.degrade`), but each
line is rendered once, so the model sees the same damage every epoch; and the faces a user's
pecha is written in are not the training faces (the test-only cursive faces are the hardest
case). Shear and stroke width move letter shapes towards unseen hands, the arc imitates a page
that does not lie flat, blur/uneven ink/specks/thresholding imitate scans. Each line draws its
own parameters; `strong` is the share of lines that get the geometric and ink changes at all,
so clean renders stay in every batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LineAugmentConfig:
    strong: float = 0.6  # share of lines that get shear / arc / stroke / blur / uneven / specks
    max_shear: float = 0.35  # horizontal shift per unit of height (about +-19 degrees of slant)
    max_arc: float = 2.5  # peak vertical displacement of the baseline arc, px
    stroke_p: float = 0.25  # chance of thicker (dilate) or thinner (erode) strokes, each half of it
    blur_p: float = 0.3  # chance of a Gaussian blur, sigma 0.4-1.0 px
    uneven_p: float = 0.3  # chance of ink fading in smooth patches (up to 45 %)
    speck_p: float = 0.3  # chance of specks (dust, paper fibres) at up to 0.4 % of pixels
    threshold_p: float = 0.1  # chance of binarisation (bitonal scans)
    width_scale: float = 0.15  # one width scale per batch in 1 +- this
    max_shift: int = 2  # vertical shift, px


def _rand(shape, g: torch.Generator, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=g)


def _chance(b: int, p: float, g: torch.Generator, strong: torch.Tensor) -> torch.Tensor:
    """(B,1,1,1) float mask: line is in the strong share and draws below p."""
    return ((torch.rand(b, generator=g) < p) & strong).float().view(b, 1, 1, 1)


def _warp(images: torch.Tensor, g: torch.Generator, strong: torch.Tensor, cfg: LineAugmentConfig) -> torch.Tensor:
    """One grid_sample for shear (x += s·(y - centre)), a baseline arc and a vertical shift."""
    b, _, h, w = images.shape
    on = strong.float()
    shear = _rand(b, g, -cfg.max_shear, cfg.max_shear) * on
    arc = _rand(b, g, 0.0, cfg.max_arc) * on
    phase, periods = _rand(b, g, 0.0, 3.1416), _rand(b, g, 0.3, 1.2)
    shift = torch.randint(-cfg.max_shift, cfg.max_shift + 1, (b,), generator=g).float()
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    src_x = xs[None] + shear[:, None, None] * (ys[None] - (h - 1) / 2)
    wave = torch.sin(phase[:, None] + periods[:, None] * 3.1416 * xs[0][None] / max(w, 1))  # (B, W)
    src_y = ys[None] - arc[:, None, None] * wave[:, None, :] - shift[:, None, None]
    grid = torch.stack([2 * src_x / max(w - 1, 1) - 1, 2 * src_y / max(h - 1, 1) - 1], dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def _stroke_and_blur(images: torch.Tensor, g: torch.Generator, strong: torch.Tensor,
                     cfg: LineAugmentConfig) -> torch.Tensor:
    b = images.shape[0]
    thick = F.max_pool2d(images, 3, stride=1, padding=1)
    # half-strength vertical erosion: a full one erases the hairlines of cursive faces
    thin = 0.5 * (images - F.max_pool2d(-images, (3, 1), stride=1, padding=(1, 0)))
    pick = torch.rand(b, generator=g).view(b, 1, 1, 1)
    stroke = _chance(b, cfg.stroke_p, g, strong)
    images = images + stroke * (pick < 0.5).float() * (thick - images) + stroke * (pick >= 0.5).float() * (thin - images)
    sigma = _rand(b, g, 0.4, 1.0).view(b, 1, 1)
    taps = torch.arange(-3, 4, dtype=torch.float32).view(1, 1, 7)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum(-1, keepdim=True)).view(b, 1, 1, 7)
    # separable per-line blur as a grouped convolution (one group per line)
    flat = images.transpose(0, 1)  # (1, B, H, W)
    blurred = F.conv2d(F.conv2d(flat, kernel, padding=(0, 3), groups=b), kernel.transpose(2, 3), padding=(3, 0), groups=b)
    blur = _chance(b, cfg.blur_p, g, strong)
    return images + blur * (blurred.transpose(0, 1) - images)


def _ink_and_specks(images: torch.Tensor, g: torch.Generator, strong: torch.Tensor,
                    cfg: LineAugmentConfig) -> torch.Tensor:
    b, _, h, w = images.shape
    field = F.interpolate(torch.rand((b, 1, 2, max(2, w // 40)), generator=g), size=(h, w), mode="bilinear",
                          align_corners=False)
    fade = _chance(b, cfg.uneven_p, g, strong) * _rand((b, 1, 1, 1), g, 0.15, 0.45)
    images = images * (1 - fade * field)
    density = _chance(b, cfg.speck_p, g, strong) * _rand((b, 1, 1, 1), g, 0.0, 0.004)
    specks = (torch.rand(images.shape, generator=g) < density).float()
    images = torch.maximum(images, specks * _rand((b, 1, 1, 1), g, 0.5, 1.0))
    level = _rand((b, 1, 1, 1), g, 0.3, 0.6)
    binar = _chance(b, cfg.threshold_p, g, strong)
    return images + binar * ((images > level).float() - images)


def augment_lines(images: torch.Tensor, widths: torch.Tensor, g: torch.Generator,
                  cfg: LineAugmentConfig = LineAugmentConfig()) -> tuple[torch.Tensor, torch.Tensor]:
    """Augmented (images, widths); padding right of each new width is zero again."""
    b, _, h, w = images.shape
    scale = float(1 - cfg.width_scale + 2 * cfg.width_scale * torch.rand((), generator=g))
    new_w = max(8, round(w * scale))
    images = F.interpolate(images, size=(h, new_w), mode="bilinear", align_corners=False)
    widths = (widths.float() * new_w / w).floor().long().clamp(min=8, max=new_w)
    strong = torch.rand(b, generator=g) < cfg.strong
    images = _warp(images, g, strong, cfg)
    images = _stroke_and_blur(images, g, strong, cfg)
    images = _ink_and_specks(images, g, strong, cfg)
    gain = _rand((b, 1, 1, 1), g, 0.7, 1.2)
    noise = torch.randn(images.shape, generator=g) * _rand((b, 1, 1, 1), g, 0.0, 0.08)
    keep = torch.arange(new_w)[None, :] < widths[:, None]
    return (images * gain + noise).clamp(0, 1) * keep[:, None, None, :], widths
