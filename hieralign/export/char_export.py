"""Export a character checkpoint: image tower + text tower (ONNX), candidate matrices, metadata.

EXPORT_DIR/
  image_tower.onnx         images float (B,1,S,S) ink/255 -> embeddings (B,D), L2-normalised
  image_tower.int8.onnx    the same, INT8 (with --int8)
  text_tower.onnx          Hi-GITA: strokes, ids int64 (B,L) -> embeddings; HierCode: codes float (B,V)
  candidates/<name>.npy    float32 (N,D) candidate embeddings, rows in the order of <name>.txt
  candidates/<name>.txt    the N candidate characters, one per line
  export.json              everything a consumer needs (also inside each .onnx as metadata_props)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hieralign.export.onnx_io import OPSET, export_onnx, quantize_int8
from hieralign.utils.io import atomic_write_bytes, atomic_write_json

FORMAT = "hieralign-char-onnx/1"
MAX_BATCH = 1 << 16  # upper bound of the dynamic batch axis (torch.export needs one)


@dataclass
class CharExportConfig:
    model: str  # CharRecognizer checkpoint (.safetensors or a run dir with best.safetensors)
    out: str  # output directory
    int8: bool = False  # also write image_tower.int8.onnx
    candidates: list[str] = field(default_factory=lambda: ["etl9g"])  # candidate sets to pre-encode (charset names)
    int8_method: str = "static"  # "static" (QDQ per-channel Conv+MatMul, calibrated; falls back to dynamic) or "dynamic"
    calibration: int = 256  # glyphs rendered from training fonts for static INT8 calibration
    parity_images: int = 64  # rendered glyphs (not calibration ones) for ONNX-vs-PyTorch parity in export.json
    min_int8_agreement: float = 0.995  # static INT8 below this top-1 agreement falls back to dynamic when that is better


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def onnx_metadata(rec: Any) -> dict[str, Any]:
    """What a consumer needs without the Python package: config, preprocessing, vocabulary."""
    meta = rec.meta
    return {
        "format": FORMAT, "model": meta.get("model"), "config": meta.get("config"),
        "preprocessing": {"image_size": rec.image_size, "margin": rec.margin, "input": "float32 (B,1,S,S) = ink/255",
                          "polarity": "0 = paper, 255 = ink; invert dark-on-light scans",
                          "fit": "crop to ink box, keep aspect, centre in S x S with margin"},
        "vocab_hash": rec.tokenizer.hash, "region": rec.region, "charset": {"train": meta.get("train_chars", "")},
        "tokenizer": meta.get("tokenizer"), "checkpoint_hash": rec.checkpoint_hash,
        # font sources the model trained on: the ONNX runtime renders reference glyphs from the same
        "train_sources": list((meta.get("data") or {}).get("sources", [])),
    }


class _NamedTextTower(torch.nn.Module):
    """`TextTower` takes *inputs; torch.export needs named positional arguments to give them dynamic axes."""

    def __init__(self, tower: torch.nn.Module, higita: bool):
        super().__init__()
        self.tower, self.higita = tower, higita

    def forward(self, first: torch.Tensor, second: torch.Tensor | None = None) -> torch.Tensor:
        return self.tower(first, second) if self.higita else self.tower(first)


def _text_inputs(rec: Any, chars: list[str]) -> tuple[list[str], tuple[torch.Tensor, ...], dict]:
    batch = rec.tokenizer.encode(chars)
    if rec.model.use_higita_enhancement:
        cfg = rec.model.config.text
        strokes, ids = _pad_min(batch.strokes, 2), _pad_min(batch.ids, 2)
        dynamic = {"strokes": {0: ("batch", 1, MAX_BATCH), 1: ("stroke_len", 2, cfg.max_strokes + 1)},
                   "ids": {0: ("batch", 1, MAX_BATCH), 1: ("ids_len", 2, cfg.max_ids_tokens)}}
        return ["strokes", "ids"], (strokes, ids), dynamic
    return ["codes"], (batch.codes,), {"codes": {0: ("batch", 1, MAX_BATCH)}}


def _pad_min(tokens: torch.Tensor, width: int) -> torch.Tensor:
    """Right-pad token ids with 0 (= padding, masked) to at least `width` columns."""
    if tokens.shape[1] >= width:
        return tokens
    return torch.nn.functional.pad(tokens, (0, width - tokens.shape[1]))


def calibration_glyphs(chars: list[str], count: int, size: int) -> np.ndarray:
    """float32 (N,1,S,S) glyphs of `chars` rendered by training fonts (never test-only families)."""
    from hieralign.data.fonts import default_training_faces
    from hieralign.data.render import RenderConfig, render_glyph

    # the default training families only: coverage of every installed face (hundreds on a
    # machine with all CJK font packages) cost minutes on a cold cache for six calibration fonts
    faces = default_training_faces(chars[: min(len(chars), 200)], min_coverage=0.9)[:6]
    if not faces or count <= 0:
        return np.zeros((0, 1, size, size), np.float32)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(chars), size=min(count, len(chars) * len(faces)), replace=len(chars) < count)
    cfg = RenderConfig(size=size)
    out = [render_glyph(faces[i % len(faces)], chars[c], cfg) for i, c in enumerate(picks)]
    return (np.stack(out).astype(np.float32) / 255.0)[:, None]


def export_char(cfg: CharExportConfig) -> dict[str, Any]:
    """Run the export; returns the manifest written to export.json."""
    from hieralign.models.char.recognizer import CharRecognizer, resolve_candidates

    out = Path(cfg.out)
    (out / "candidates").mkdir(parents=True, exist_ok=True)
    rec = CharRecognizer.from_checkpoint(cfg.model)
    meta = onnx_metadata(rec)
    size = rec.image_size
    example = torch.rand(2, 1, size, size)
    export_onnx(rec.image_tower, (example,), out / "image_tower.onnx", ["images"], ["embeddings"],
                {"images": {0: ("batch", 1, MAX_BATCH)}}, {**meta, "tower": "image"})
    train_chars = list(rec.meta.get("train_chars") or resolve_candidates(cfg.candidates[0]))
    names, args, dynamic = _text_inputs(rec, train_chars[:4] if len(train_chars) >= 4 else train_chars * 4)
    text_tower = _NamedTextTower(rec.text_tower, rec.model.use_higita_enhancement)
    export_onnx(text_tower, args, out / "text_tower.onnx", names, ["embeddings"], dynamic,
                {**meta, "tower": "text", "inputs": names})
    sets = {name: _write_candidates(rec, name, resolve_candidates(name), out) for name in cfg.candidates}
    manifest: dict[str, Any] = {**meta, "opset": OPSET, "text_inputs": names, "candidate_sets": sets,
                                "files": {}, "export_config": asdict(cfg)}
    glyphs = calibration_glyphs(train_chars or resolve_candidates(cfg.candidates[0]),
                                max(0, cfg.calibration) + cfg.parity_images, size)
    calib, held_out = glyphs[: max(0, cfg.calibration)], glyphs[max(0, cfg.calibration):]
    from hieralign.export.parity import measure_parity

    if cfg.int8:
        manifest["int8"] = _quantize(cfg, rec, out, calib, held_out)
    manifest["parity"] = measure_parity(rec, out, held_out if len(held_out) else calib, cfg.int8)
    for f in sorted(out.rglob("*")):
        if f.is_file() and f.name != "export.json":
            manifest["files"][str(f.relative_to(out))] = {"bytes": f.stat().st_size, "sha256": _sha256(f)}
    atomic_write_json(out / "export.json", manifest)
    return manifest


def _quantize(cfg: CharExportConfig, rec: Any, out: Path, calib: np.ndarray, held_out: np.ndarray) -> dict[str, Any]:
    """Static INT8 (calibrated on training-font renders) unless asked for dynamic or nothing was
    rendered; a static result whose top-1 agreement with torch on held-out renders is below
    `min_int8_agreement` is replaced by dynamic INT8 when that agrees better."""
    from hieralign.export.parity import measure_parity

    if cfg.int8_method not in ("dynamic", "static"):
        raise ValueError(f"int8 method {cfg.int8_method!r}: choose dynamic or static")
    src, dst = out / "image_tower.onnx", out / "image_tower.int8.onnx"
    if cfg.int8_method == "dynamic" or not len(calib):
        return quantize_int8(src, dst, None)
    how = quantize_int8(src, dst, calib)
    if not len(held_out):
        return how
    static_agree = measure_parity(rec, out, held_out, True).get("top1_agreement_int8", 1.0)
    how["top1_agreement_held_out"] = static_agree
    if static_agree >= cfg.min_int8_agreement:
        return how
    dyn_path = out / "image_tower.int8-dynamic.onnx"
    dyn = quantize_int8(src, dyn_path, None)
    dyn_path.replace(dst)  # measure_parity reads image_tower.int8.onnx
    dyn_agree = measure_parity(rec, out, held_out, True).get("top1_agreement_int8", 0.0)
    if dyn_agree > static_agree:
        return {**dyn, "top1_agreement_held_out": dyn_agree, "fallback_from": how}
    quantize_int8(src, dst, calib)  # static was better after all: restore it
    return {**how, "dynamic_tried": dyn_agree}


def _write_candidates(rec: Any, name: str, chars: list[str], out: Path) -> dict[str, Any]:
    emb = rec.encode_candidates(chars).cpu().numpy().astype(np.float32)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60] or "set"
    with open(out / "candidates" / f"{safe}.npy.tmp", "wb") as f:
        np.save(f, emb)
    (out / "candidates" / f"{safe}.npy.tmp").replace(out / "candidates" / f"{safe}.npy")
    atomic_write_bytes(out / "candidates" / f"{safe}.txt", ("\n".join(chars) + "\n").encode("utf-8"))
    digest = hashlib.sha256("".join(chars).encode()).hexdigest()[:16]
    return {"file": f"candidates/{safe}.npy", "chars": f"candidates/{safe}.txt", "count": len(chars),
            "dim": int(emb.shape[1]), "chars_hash": digest}
