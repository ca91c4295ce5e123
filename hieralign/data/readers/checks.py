"""Is this file what `--format` says, and is this record a glyph? Checks that catch garbage.

A reader that checks only the code field imports random bytes (5 of 100 noise records became
glyphs) and reads an ETL8G file as ETL9G without a word (same record size, image 4 bytes
apart). Three kinds of evidence, cheapest first:
- layout: the ETL header's undefined bytes are zero in every real record; random bytes are not.
- the character: the code must name a class the format's database has (ETL9G: 3,036 classes).
- ink: a scanned glyph inks a small part of its box; noise inks most of it.
File-level: which ETL layout puts the average ink centroid where writers put characters, in
the middle of the box (the wrong one moves every image 8 pixels sideways).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hieralign.errors import UserError

MAX_INK_FRACTION = 0.6  # share of pixels above the noise floor; handwriting measured far below, noise ~0.87
MIN_INK_PIXELS = 8  # fewer inked pixels than this is an empty box, not a glyph
MIN_LAYOUT_RECORDS = 32  # records needed before the ink centroid may call a layout mismatch
CENTRE_MARGIN_PX = 4.0  # a layout must centre ink this much better than the claimed one to call a mismatch


def ink_problem(image: np.ndarray, floor: int = 32) -> str | None:
    """Why `image` (uint8 ink, 0 = paper) is not a plausible glyph, or None."""
    inked = int(np.count_nonzero(image > floor))
    if inked < MIN_INK_PIXELS:
        return f"no ink ({inked} pixels above the noise floor)"
    share = inked / image.size
    if share > MAX_INK_FRACTION:
        return f"ink covers {share:.0%} of the image (noise or an inverted scan, not a glyph)"
    return None


def nonzero_padding(records: np.ndarray, spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(n,) bool: records with a nonzero byte where the layout has undefined (zero) bytes."""
    bad = np.zeros(len(records), bool)
    for start, stop in spans:
        bad |= records[:, start:stop].any(axis=1)
    return bad


def check_not_empty(path: str | os.PathLike) -> None:
    """A 0-byte input is a user mistake (a failed download), not "0 images"."""
    if Path(path).stat().st_size == 0:
        raise UserError(f"{path}: empty file (0 bytes); re-download or re-copy it")


def ink_centroid_x(images: np.ndarray, floor: int = 32) -> float:
    """Mean x of ink over a stack of images (n, H, W)."""
    weights = (images > floor).sum(axis=(0, 1)).astype(np.float64)
    total = weights.sum()
    return float((weights * np.arange(images.shape[2])).sum() / total) if total else images.shape[2] / 2
