"""Printed-glyph rendering and the shared glyph normalisation (crop to ink, fit, centre).

Every image source (fonts, synthetic handwriting, ETL/CASIA scans, user images) goes through
`normalize_glyph`, so a model sees the same framing whatever the source: the ink bounding box
scaled (aspect kept) to fit `size - 2*margin`, centred on a `size`×`size` canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFont, features

from hieralign.data.fonts import FontFace


@dataclass
class RenderConfig:
    size: int = 64  # output canvas side in pixels (square)
    margin: int = 4  # blank pixels kept on every side of the fitted ink box
    font_px: int = 128  # font size used to rasterise before downscaling (anti-aliasing)
    ink_threshold: int = 32  # ink values <= this are ignored when finding the ink bounding box
    upscale_small: bool = True  # scale small glyphs up to fill the box (False: only ever shrink)


def raqm_available() -> bool:
    return bool(features.check("raqm"))


@lru_cache(maxsize=256)
def load_font(path: str, index: int, px: int) -> ImageFont.FreeTypeFont:
    """A cached Pillow font; raqm layout whenever Pillow has it (BASIC breaks complex scripts)."""
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(path, size=px, index=index, layout_engine=engine)
    except OSError as exc:
        raise OSError(f"cannot load font {path} (face {index}): {exc}; check the file or pick another face") from exc


def ink_bbox(img: np.ndarray, threshold: int = 32) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) half-open box of pixels > threshold, or None when blank."""
    mask = img > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def normalize_glyph(img: np.ndarray, size: int = 64, margin: int = 4, threshold: int = 32,
                    upscale_small: bool = True) -> np.ndarray:
    """Crop `img` (uint8 ink intensity, any size) to its ink box, fit it into `size - 2*margin`
    keeping the aspect ratio, and centre it on a blank `size`×`size` canvas."""
    out = np.zeros((size, size), np.uint8)
    box = ink_bbox(img, threshold)
    if box is None:
        return out
    top, bottom, left, right = box
    crop = img[top:bottom, left:right]
    h, w = crop.shape
    inner = size - 2 * margin
    scale = inner / max(h, w)
    if not upscale_small:
        scale = min(scale, 1.0)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    if (new_h, new_w) != (h, w):
        resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
        crop = np.asarray(Image.fromarray(crop).resize((new_w, new_h), resample))
    y0, x0 = (size - new_h) // 2, (size - new_w) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = crop
    return out


def rasterize(face: FontFace, ch: str, px: int) -> np.ndarray:
    """The raw anti-aliased ink mask of `ch` at `px` (uint8, tight to Pillow's glyph box)."""
    font = load_font(face.path, face.index, px)
    mask = font.getmask(ch, mode="L")
    w, h = mask.size
    if w == 0 or h == 0:
        return np.zeros((1, 1), np.uint8)
    return np.asarray(Image.frombuffer("L", (w, h), bytes(mask), "raw", "L", 0, 1))


def render_glyph(face: FontFace, ch: str, cfg: RenderConfig | None = None) -> np.ndarray:
    """`ch` drawn by `face`: uint8 (size, size) ink intensity (0 paper, 255 ink), normalised.
    A character the face cannot draw comes back blank (check `fonts.outlined_chars` first)."""
    cfg = cfg or RenderConfig()
    raw = rasterize(face, ch, cfg.font_px)
    return normalize_glyph(raw, cfg.size, cfg.margin, cfg.ink_threshold, cfg.upscale_small)


def render_variant(face: FontFace, ch: str, cfg: RenderConfig, rng: np.random.Generator) -> np.ndarray:
    """A mildly different print of `ch` (for more than one image per font): another raster size
    (changes hinting and anti-aliasing), a small rotation and a slightly different margin."""
    px = int(rng.integers(max(16, cfg.font_px // 3), cfg.font_px + cfg.font_px // 4 + 1))
    raw = rasterize(face, ch, px)
    angle = float(rng.normal(0, 2.0))
    if abs(angle) > 0.3:
        raw = np.asarray(Image.fromarray(raw).rotate(angle, resample=Image.Resampling.BILINEAR, expand=True))
    margin = int(np.clip(cfg.margin + rng.integers(-1, 3), 0, cfg.size // 4))
    return normalize_glyph(raw, cfg.size, margin, cfg.ink_threshold, cfg.upscale_small)
