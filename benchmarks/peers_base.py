"""Shared pieces of the peer OCR wrappers: availability, timing, image conversion.

Image convention (docs/DEVELOPING.md): a numpy array is *ink intensity* (uint8, 0 = paper,
255 = ink), like every glyph and line array in hieralign. Peers want dark ink on light paper,
so arrays are inverted here. A `PIL.Image` is taken as a natural picture (dark on light, e.g.
a scan or a synthesised line from `hieralign.data.lines.synth`) and only converted to grayscale.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Availability:
    """Whether a peer can run here, and if not, why and what to install."""

    ok: bool  # True when the engine loaded and can recognise
    reason: str  # "" when ok, else a sentence naming what is missing and how to install it

    def __bool__(self) -> bool:
        return self.ok


def to_paper_gray(img: np.ndarray | Image.Image) -> np.ndarray:
    """uint8 (H, W) dark-on-light grayscale from an ink-intensity array or a natural image."""
    if isinstance(img, Image.Image):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    arr = np.asarray(img)
    if arr.ndim == 3:  # (H, W, C) ink arrays: the darkest channel is not meaningful, average
        arr = arr.mean(axis=2)
    if arr.ndim != 2:
        raise ValueError(f"expected an (H, W) ink-intensity array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if arr.dtype.kind == "f" and arr.size and float(arr.max()) <= 1.0:
            arr = arr * 255.0  # model-side float ink in [0, 1]
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    _warn_if_paper_white(arr)
    return 255 - arr


def _warn_if_paper_white(arr: np.ndarray) -> None:
    """Ink-intensity images have a blank (0) border; a white border means the caller passed a
    dark-on-light array, which would be inverted into white-on-black and misread."""
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]) if arr.size else arr
    if border.size and float(border.mean()) > 200:
        warnings.warn("peers: this array has a white border, so it looks dark-on-light; arrays must be "
                      "ink intensity (0 = paper, 255 = ink): pass 255 - arr, or a PIL image", stacklevel=4)


def prepare_page(img: np.ndarray | Image.Image, scale: float = 1.0, pad: int = 8) -> np.ndarray:
    """Dark-on-light uint8 page: resized by `scale` (area-averaging when shrinking) and framed
    by `pad` pixels of paper on every side (Tesseract misreads ink that touches the border)."""
    gray = to_paper_gray(img)
    if scale != 1.0:
        h, w = gray.shape
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
        gray = np.asarray(Image.fromarray(gray).resize(size, resample))
    if pad > 0:
        gray = np.pad(gray, pad, constant_values=255)
    return np.ascontiguousarray(gray)


def has_ink(page: np.ndarray, level: int = 128) -> bool:
    """Whether a dark-on-light page has any pixel darker than `level`. Engines are not asked
    about blank pages: Tesseract's LSTM reads a white page as "ーー"."""
    return bool(page.size) and int(page.min()) < level


def first_symbol(text: str) -> str:
    """Top-1 character from an engine's text: the first non-space code point, or ""."""
    for char in text:
        if not char.isspace():
            return char
    return ""


class PeerEngine:
    """Base of every peer: `name`, `version`, `available()`, `run(img)`, `time_per_item`."""

    name: str = "peer"  # human-readable engine id for tables (backend and settings included)

    @property
    def version(self) -> str:
        """Engine and model version string, "" when the engine is not available."""
        raise NotImplementedError

    def available(self) -> Availability:
        """Try to load the engine once; never raises."""
        raise NotImplementedError

    def run(self, img: Any) -> str:
        """The engine's main call on one image (glyph: `recognize`, line: `read`)."""
        raise NotImplementedError

    def require(self) -> None:
        """Raise RuntimeError with the install hint when the engine cannot run."""
        status = self.available()
        if not status:
            raise RuntimeError(f"{self.name}: {status.reason}")

    def time_per_item(self, images: Sequence[Any], warmup: int = 3, repeat: int = 1) -> float:
        """Mean wall-clock seconds per image for `run`, one image at a time, after `warmup`
        untimed calls (model loading and first-call allocations are excluded)."""
        if not images:
            raise ValueError("time_per_item needs at least one image")
        self.require()
        for i in range(warmup):
            self.run(images[i % len(images)])
        start = time.perf_counter()
        for _ in range(repeat):
            for img in images:
                self.run(img)
        return (time.perf_counter() - start) / (len(images) * repeat)
