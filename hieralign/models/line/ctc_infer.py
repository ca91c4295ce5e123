"""Inference with the CTC line recogniser: load, batch by width, decode.

Images are height-normalised (`data.lines.height.to_height`), sorted by width and grouped so
that each batch's padded area stays small; outputs come back in the caller's order and do
not depend on the grouping (the model masks padding).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hieralign.data.lines.height import to_height
from hieralign.models.line.ctc import LineRecognizer
from hieralign.models.line.ctc_decode import Lexicon, beam_decode, greedy_decode

ImageLike = Image.Image | str | os.PathLike


def load_line_recognizer(path: str | os.PathLike) -> LineRecognizer:
    """A saved recogniser folder (config.json + model.safetensors) in eval mode."""
    folder = Path(path)
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"{folder}: not a line-OCR model folder (expected config.json + model.safetensors; "
                                "train one with `hieralign train line --arch ctc`)")
    return LineRecognizer.from_pretrained(str(folder)).eval()


def prepare(images: Sequence[ImageLike], height: int) -> list[np.ndarray]:
    """(height, width) uint8 ink arrays; paths are opened here."""
    out = []
    for image in images:
        if not isinstance(image, Image.Image):
            with Image.open(image) as opened:
                image = opened.convert("L")
        out.append(to_height(image, height))
    return out


def width_batches(widths: Sequence[int], max_batch: int = 32, max_pixels_wide: int = 60_000) -> list[list[int]]:
    """Indices grouped by similar width: sorted, cut when the batch is full or its padded
    width sum (batch size x widest) would pass `max_pixels_wide` columns."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= max_batch or (len(current) + 1) * widths[i] > max_pixels_wide):
            batches.append(current)
            current = []
        current.append(i)
    return batches + ([current] if current else [])


def pad_batch(arrays: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, H, Wmax) float ink in [0, 1], zero-padded on the right, and the true widths."""
    widths = torch.tensor([a.shape[1] for a in arrays], dtype=torch.long)
    batch = np.zeros((len(arrays), 1, arrays[0].shape[0], int(widths.max())), dtype=np.float32)
    for b, a in enumerate(arrays):
        batch[b, 0, :, : a.shape[1]] = a / 255.0
    return torch.from_numpy(batch), widths


@torch.inference_mode()
def iter_outputs(model: LineRecognizer, arrays: Sequence[np.ndarray], max_batch: int = 32
                 ) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(indices, log_probs (T, B, V), frame lengths) per width batch."""
    for idx in width_batches([a.shape[1] for a in arrays], max_batch):
        images, widths = pad_batch([arrays[i] for i in idx])
        log_probs, lengths = model(images, widths)
        yield idx, log_probs, lengths


def transcribe_arrays(model: LineRecognizer, arrays: Sequence[np.ndarray], beam: int = 1,
                      lexicon: Lexicon | None = None, max_batch: int = 32, on_batch=None) -> list[dict]:
    """[{text, score}] in input order; beam 1 = greedy. `on_batch(n)` reports progress."""
    results: list[dict] = [{} for _ in arrays]
    for idx, log_probs, lengths in iter_outputs(model, arrays, max_batch):
        if beam <= 1 and lexicon is None:
            decoded = greedy_decode(log_probs, lengths, model.charset)
        else:
            decoded = beam_decode(log_probs, lengths, model.charset, max(beam, 1), lexicon)
        for i, (text, score) in zip(idx, decoded):
            results[i] = {"text": text, "score": score}
        if on_batch is not None:
            on_batch(len(idx))
    return results


def transcribe_images(model: LineRecognizer, images: Sequence[ImageLike], beam: int = 1,
                      lexicon: Lexicon | None = None, max_batch: int = 32) -> list[dict]:
    """Transcribe line images (PIL images or paths): [{"text", "score"}] in input order. Score is
    the mean per-frame log-probability of the decoded path (0 = certain). For the server."""
    was_training = model.training
    model.eval()
    try:
        return transcribe_arrays(model, prepare(images, model.config.height), beam, lexicon, max_batch)
    finally:
        model.train(was_training)
