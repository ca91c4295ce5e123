"""Height normalisation for line images: ink intensity at a fixed height, width kept.

The recogniser reads a line at 48 px height and its natural width (no fixed canvas, so no
squeezing). Pixels are ink intensity, 0 = paper, so zero padding to a batch's width is blank
paper and padding never looks like ink.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

DEFAULT_HEIGHT = 48


def to_ink(image: Image.Image) -> np.ndarray:
    """uint8 ink intensity (255 = darkest ink, 0 = paper) with the contrast stretched to the
    1st-99th percentile, so a grey, low-contrast scan looks like a clean one."""
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    if float(np.median(gray)) < 128:  # light ink on dark paper (negatives, some microfilm)
        gray = 255.0 - gray
    lo, hi = np.percentile(gray, [1, 99]) if gray.size else (0.0, 255.0)
    if hi - lo < 8:  # blank or flat image: nothing to stretch
        return np.zeros(gray.shape, dtype=np.uint8)
    ink = (hi - gray) / (hi - lo)
    return (np.clip(ink, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_height(image: Image.Image, height: int = DEFAULT_HEIGHT, min_width: int = 8) -> np.ndarray:
    """(height, width) uint8 ink image; width scales with the aspect ratio (never squeezed)."""
    w, h = image.size
    width = max(min_width, round(w * height / max(h, 1)))
    resized = image.convert("L").resize((width, height), Image.Resampling.BILINEAR)
    return to_ink(resized)
