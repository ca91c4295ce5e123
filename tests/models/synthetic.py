"""A tiny compositional "script" for model tests: a glyph = left part + right part.

Each part is one of 4 stroke patterns drawn in its half of a 64x64 canvas. A class's code is
{left=i, right=j}; its IDS-like tokens are [op, 1 + i, 5 + j]. Holding out some (i, j) pairs
gives a zero-shot task a model can only solve through the parts.
"""

from __future__ import annotations

import numpy as np
import torch

from hieralign.models.char import TextBatch

PARTS = 4


def draw_part(canvas: np.ndarray, kind: int, x0: int, rng: np.random.Generator) -> None:
    jitter = int(rng.integers(-2, 3))
    if kind == 0:  # horizontal bars
        for y in (20, 32, 44):
            canvas[y + jitter: y + jitter + 3, x0 + 4: x0 + 26] = 1.0
    elif kind == 1:  # vertical bars
        for x in (8, 16, 24):
            canvas[12:52, x0 + x + jitter: x0 + x + jitter + 3] = 1.0
    elif kind == 2:  # box
        canvas[14:50, x0 + 5 + jitter: x0 + 8 + jitter] = 1.0
        canvas[14:50, x0 + 24 + jitter: x0 + 27 + jitter] = 1.0
        canvas[14:17, x0 + 5: x0 + 27] = 1.0
        canvas[47:50, x0 + 5: x0 + 27] = 1.0
    else:  # diagonal
        for t in range(36):
            y, x = 14 + t, x0 + 4 + (t * 22) // 36 + jitter
            canvas[y: y + 3, x: x + 3] = 1.0


def make_images(classes: list[tuple[int, int]], per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, (left, right) in enumerate(classes):
        for _ in range(per_class):
            canvas = np.zeros((64, 64), np.float32)
            draw_part(canvas, left, 0, rng)
            draw_part(canvas, right, 32, rng)
            images.append(canvas + rng.normal(0, 0.05, canvas.shape).astype(np.float32))
            labels.append(label)
    return torch.from_numpy(np.clip(np.stack(images), 0, 1))[:, None], torch.tensor(labels)


def make_texts(classes: list[tuple[int, int]]) -> TextBatch:
    n = len(classes)
    ids = torch.tensor([[1, 2 + left, 2 + PARTS + right] for left, right in classes])
    strokes = torch.tensor([[6, 1 + left % 5, 1 + right % 5] for left, right in classes])
    codes = torch.zeros(n, 2 * PARTS)
    for k, (left, right) in enumerate(classes):
        codes[k, left] = codes[k, PARTS + right] = 1.0
    return TextBatch(strokes=strokes, ids=ids, codes=codes)


ALL = [(i, j) for i in range(PARTS) for j in range(PARTS)]
UNSEEN = [(0, 1), (1, 2), (2, 3), (3, 0)]
SEEN = [c for c in ALL if c not in UNSEEN]
VOCAB = 2 + 2 * PARTS
