"""ONNX-vs-PyTorch agreement, measured at export time and recorded in export.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch


def top1_agreement(a: np.ndarray, b: np.ndarray, candidates: np.ndarray) -> float:
    """Share of rows whose best candidate is the same under embeddings `a` and `b`."""
    if not len(a):
        return float("nan")
    return float(np.mean((a @ candidates.T).argmax(1) == (b @ candidates.T).argmax(1)))


def measure_parity(rec: Any, out: Path, glyphs: np.ndarray, int8: bool) -> dict[str, Any]:
    """Max |ONNX - torch| of image embeddings (batch 1 and all), text embeddings, and INT8 top-1 agreement."""
    from hieralign.export.onnx_io import session

    if not len(glyphs):
        return {"note": "no glyphs rendered (no training fonts installed): parity not measured"}
    image = session(out / "image_tower.onnx")
    with torch.no_grad():
        ref = rec.encode_images(torch.from_numpy(glyphs)).numpy()
    onnx_all = image.run(None, {"images": glyphs})[0]
    onnx_one = image.run(None, {"images": glyphs[:1]})[0]
    report: dict[str, Any] = {"images": len(glyphs), "image_max_abs_diff": float(np.abs(onnx_all - ref).max()),
                              "image_max_abs_diff_batch1": float(np.abs(onnx_one - ref[:1]).max())}
    chars = list(rec.meta.get("train_chars", ""))[:256]
    if chars:
        cand = rec.encode_candidates(chars).numpy()
        report["top1_agreement_fp32"] = top1_agreement(onnx_all, ref, cand)
        if int8:
            q = session(out / "image_tower.int8.onnx").run(None, {"images": glyphs})[0]
            report["top1_agreement_int8"] = top1_agreement(q, ref, cand)
            report["int8_max_abs_diff"] = float(np.abs(q - ref).max())
    return report
