"""User images -> model input, framed exactly like the training glyphs.

Any common format (Pillow) -> grayscale -> polarity (dark ink on light paper is inverted to the
ink-intensity convention 0 = paper, 255 = ink) -> crop to the ink box, fit and centre
(`hieralign.data.render.normalize_glyph`, the function every training source goes through).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")


def load_gray(path: str | os.PathLike) -> np.ndarray:
    """Read any Pillow-readable image as uint8 grayscale; transparent pixels become paper."""
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                # Transparent background: composite on white so the polarity test sees paper there.
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(bg, rgba)
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read as an image ({exc}); use PNG/JPEG/BMP/TIFF/WebP") from exc


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Ink-intensity image: inverted when the border (the paper) is lighter than mid-grey."""
    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.median(border) > 127 else gray


def prepare_glyph(image: np.ndarray, size: int = 64, margin: int = 4, threshold: int = 32) -> np.ndarray:
    """Polarity + crop + fit: uint8 (size, size), ink 255 on paper 0."""
    from hieralign.data.render import normalize_glyph

    ink = to_ink(image).astype(np.int16)
    # Subtract the paper level (grey scanner paper would otherwise fill the ink box) ...
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    ink = np.clip(ink - int(np.median(border)), 0, 255).astype(np.uint8)
    if ink.max() > 0:
        # ... and stretch faint scans so the ink-box threshold sees them (a light pencil stroke at 60/255).
        ink = (ink.astype(np.float32) * (255.0 / ink.max())).astype(np.uint8)
    return normalize_glyph(ink, size=size, margin=margin, threshold=threshold)


def to_tensor(glyphs: list[np.ndarray] | np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W) ink images -> float (N,1,H,W) in [0, 1]."""
    arr = np.stack([np.asarray(g, np.uint8) for g in glyphs]) if len(glyphs) else np.zeros((0, 64, 64), np.uint8)
    return torch.from_numpy(arr).float().div_(255.0)[:, None]


def collect_images(paths: list[str]) -> list[Path]:
    """Files as given, and image files inside given folders (sorted, recursive)."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such image file or folder")
    return found
