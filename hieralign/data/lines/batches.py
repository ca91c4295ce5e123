"""Line data in memory: preprocessed canvases, texts, and text-identity group ids.

Canvases are preprocessed once (uint8, 48x384 = 18 kB a line) and kept in one array, so a
training step only indexes memory and the two CPU cores go to the model, not to PNG decoding.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from hieralign.data.lines.manifest import LineRecord
from hieralign.data.lines.preprocess import PreprocessConfig, load_and_preprocess, to_pixel_values
from hieralign.utils.progress import progress


def text_group_id(text: str) -> int:
    """Stable 63-bit id of a normalised text: equal texts -> equal ids, on every rank and run."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


@dataclass
class LineSet:
    """Preprocessed lines: canvases[i] belongs to records[i]."""

    records: list[LineRecord]  # provenance and text of each line
    canvases: np.ndarray  # (N, H, W) uint8 ink intensity
    group_ids: torch.Tensor  # (N,) int64 text identity

    def __len__(self) -> int:
        return len(self.records)

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]


def load_lines(records: list[LineRecord], dataset_dir, cfg: PreprocessConfig, desc: str = "preprocessing") -> LineSet:
    canvases = np.zeros((len(records), cfg.height, cfg.width), dtype=np.uint8)
    for i, record in enumerate(progress(records, desc=desc, unit="line")):
        canvases[i] = load_and_preprocess(record.resolve(dataset_dir), cfg)
    ids = torch.tensor([text_group_id(r.text) for r in records], dtype=torch.int64)
    return LineSet(records, canvases, ids)


def byte_lengths(texts: list[str]) -> np.ndarray:
    """ByT5 token counts: UTF-8 bytes + the end-of-sequence token."""
    return np.array([len(t.encode("utf-8")) + 1 for t in texts], dtype=np.int64)


def choose_text_max_length(texts: list[str], percentile: float = 99.0, multiple: int = 8) -> int:
    """Max length covering `percentile` % of the texts, rounded up (Tibetan: 3 bytes a letter)."""
    if not texts:
        return 64
    value = float(np.percentile(byte_lengths(texts), percentile))
    return int(math.ceil(value / multiple) * multiple)


def truncation_rate(texts: list[str], max_length: int) -> float:
    """Fraction of texts longer than `max_length` tokens (they lose their tail)."""
    return float((byte_lengths(texts) > max_length).mean()) if texts else 0.0


def tokenize(tokenizer, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    enc = tokenizer(texts, padding="longest", truncation=True, max_length=max_length, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def make_batch(lines: LineSet, indices, tokenizer, max_length: int) -> dict[str, torch.Tensor]:
    """Model inputs for the given line indices (no augmentation)."""
    indices = np.asarray(indices, dtype=np.int64)
    batch = tokenize(tokenizer, [lines.records[i].text for i in indices], max_length)
    batch["pixel_values"] = to_pixel_values(lines.canvases[indices])
    batch["group_ids"] = lines.group_ids[torch.as_tensor(indices)]
    return batch


def augment(pixel_values: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light training-only augmentation on a batch: ink gain, vertical jitter, sensor noise.

    No flips (a mirrored line is not the same text) and no horizontal shift of the left-aligned
    canvas beyond 1 px (the right padding marks the line's end).
    """
    b = pixel_values.shape[0]
    gain = torch.empty(b, 1, 1, 1).uniform_(0.6, 1.0, generator=generator)
    shift = int(torch.randint(-1, 2, (1,), generator=generator))
    x = torch.roll(pixel_values * gain, shifts=shift, dims=2)
    noise = torch.randn(x.shape, generator=generator) * 0.03
    inked = (pixel_values.amax(dim=2, keepdim=True) > 0).float()  # keep the right padding exactly blank
    return (x + noise * inked).clamp(0.0, 1.0)
