"""User images -> model input, framed exactly like the training glyphs.

Any common format (Pillow) -> grayscale -> polarity (dark ink on light paper is inverted to the
ink-intensity convention 0 = paper, 255 = ink) -> paper level removed, specks, ruling lines and
borders erased (`inkbox`) -> crop to the ink box, fit and centre keeping the aspect ratio
(`hieralign.data.render.normalize_glyph`, the function every training source goes through, so a
thin 一 or 丨 is framed exactly as the training renders frame it, never stretched to the box).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # torch only where a tensor is asked for: the ONNX path never imports it
    import torch

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


class NoInkError(ValueError):
    """The image holds no ink after polarity, paper level and despeckling (blank, 1×1, all paper)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index  # position of the blank image in the batch


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Ink-intensity image: inverted when the border (the paper) is lighter than mid-grey."""
    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    return _ink_stack(gray[None])[0]


def _border(stack: np.ndarray) -> np.ndarray:
    """(G, 2H+2W) border pixels of every image of a (G,H,W) stack."""
    return np.concatenate([stack[:, 0], stack[:, -1], stack[:, :, 0], stack[:, :, -1]], axis=1)


def _ink_stack(gray: np.ndarray) -> np.ndarray:
    light_paper = np.median(_border(gray), axis=1) > 127
    return np.where(light_paper[:, None, None], 255 - gray, gray).astype(np.uint8)


def clean_stack(gray: np.ndarray, threshold: int = 32) -> np.ndarray:
    """Same-shaped uint8 grayscale (G,H,W) -> ink (0 paper, 255 ink) with the paper level removed,
    faint scans stretched, salt-and-pepper median-filtered, specks / ruling lines / borders erased."""
    from hieralign.models.char import inkbox

    ink = _ink_stack(gray).astype(np.int16)
    # Subtract the paper level (grey scanner paper would otherwise fill the ink box) ...
    ink = np.clip(ink - np.median(_border(ink), axis=1).astype(np.int16)[:, None, None], 0, 255)
    # ... and stretch faint scans so the ink-box threshold sees them (a light pencil stroke at 60/255).
    peak = ink.max(axis=(1, 2), keepdims=True).astype(np.float32)
    ink = (ink * (255.0 / np.maximum(peak, 1.0))).astype(np.uint8)
    mask = ink > threshold
    noisy = inkbox.noisy(mask)
    if noisy.any():
        ink[noisy] = inkbox.despeckle(ink[noisy], threshold)
        mask[noisy] = ink[noisy] > threshold
    # Clean training-like glyphs (no noise, no ink within 1 px of the frame) skip the component analysis.
    if min(mask.shape[1:]) < 3:
        return ink
    suspect = noisy | _border(mask).any(axis=1) | _border(mask[:, 1:-1, 1:-1]).any(axis=1)
    if suspect.any():
        ink[suspect] *= inkbox.keep_mask(mask[suspect])
    return ink


def prepare_batch(images: list[np.ndarray], size: int = 64, margin: int = 4, threshold: int = 32) -> np.ndarray:
    """uint8 grayscale images (any sizes, either polarity) -> float32 (B,1,size,size) model input.
    Images of one shape are cleaned together as one numpy stack; only the final crop-and-fit
    (`normalize_glyph`, the training framing) runs per image. NoInkError when one has no ink."""
    from hieralign.data.render import normalize_glyph

    out = np.zeros((len(images), 1, size, size), np.float32)
    groups: dict[tuple[int, ...], list[int]] = {}
    arrays = [np.asarray(im, dtype=np.uint8) for im in images]
    for i, a in enumerate(arrays):
        if a.ndim != 2:
            raise ValueError(f"image {i}: expected a 2-D grayscale image, got shape {a.shape}")
        groups.setdefault(a.shape, []).append(i)
    for idx in groups.values():
        clean = clean_stack(np.stack([arrays[i] for i in idx]), threshold)
        for i, ink in zip(idx, clean):
            glyph = normalize_glyph(ink, size=size, margin=margin, threshold=threshold)
            if not glyph.any():
                raise NoInkError(f"no ink found in image {i} ({arrays[i].shape[1]}x{arrays[i].shape[0]} px): "
                                 "blank or all paper; crop one character with dark ink on light paper", i)
            out[i, 0] = glyph
    out /= 255.0
    return out


def prepare_glyph(image: np.ndarray, size: int = 64, margin: int = 4, threshold: int = 32) -> np.ndarray:
    """Polarity + clean + crop + fit one image: uint8 (size, size), ink 255 on paper 0."""
    return np.rint(prepare_batch([image], size, margin, threshold)[0, 0] * 255.0).astype(np.uint8)


def to_tensor(glyphs: list[np.ndarray] | np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W) ink images -> float (N,1,H,W) in [0, 1]."""
    import torch

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
