"""Export a line-CLIP model directory: image tower and text tower to ONNX, plus metadata.

EXPORT_DIR/
  line_image_tower.onnx       pixel_values float32 (B,1,H,W) in [0,1] (the model's fixed canvas) -> embeddings (B,D)
  line_image_tower.int8.onnx  the same, dynamic INT8 (with --int8)
  line_text_tower.onnx        input_ids, attention_mask int64 (B, text_max_length), zero-padded -> embeddings (B,D)
  export.json                 format, config, preprocessing canvas, text max length, tokenizer rule, parity

The canvas width is fixed: the model was trained on one deterministic canvas per line (see
hieralign.data.lines.preprocess), so an embedding never depends on its batch. The batch axis is
dynamic; the token axis is text_max_length (T5's attention does not export with a symbolic length).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hieralign.export.onnx_io import OPSET, export_onnx, quantize_int8, session
from hieralign.utils.io import atomic_write_json

FORMAT = "hieralign-line-onnx/1"
MAX_BATCH = 4096


class _ImageTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixel_values)


class _TextTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids, attention_mask)


def pad_tokens(tokens: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """Right-pad input_ids/attention_mask with zeros to exactly `length` tokens."""
    pad = length - tokens["input_ids"].shape[1]
    return {k: torch.nn.functional.pad(v, (0, pad)).long() for k, v in tokens.items()}


def is_line_model_dir(path: str | Path) -> bool:
    return (Path(path) / "line_clip.json").is_file()


def export_line(model_dir: str, out: str, int8: bool = False) -> dict[str, Any]:
    """Export both towers of a line-CLIP directory; returns the manifest written to export.json."""
    from hieralign.data.lines.batches import tokenize
    from hieralign.models.line.artifacts import LineEncoder

    enc = LineEncoder.from_dir(model_dir)
    out_dir = Path(out)
    pre = enc.preprocess
    meta = {"format": FORMAT, "config": enc.model.config.to_dict(), "preprocess": pre.to_dict(),
            "text_max_length": enc.text_max_length, "embed_dim": enc.dim, "model_dir": str(model_dir),
            "tokenizer": "ByT5 bytes: id = UTF-8 byte + 3, pad 0, eos 1; text NFC-normalised, whitespace collapsed"}
    pixels = torch.rand(2, 1, pre.height, pre.width)
    export_onnx(_ImageTower(enc.model), (pixels,), out_dir / "line_image_tower.onnx", ["pixel_values"],
                ["embeddings"], {"pixel_values": {0: ("batch", 1, MAX_BATCH)}}, {**meta, "tower": "image"})
    # HF T5's attention reshapes fail in torch.export's decompositions: TorchScript exporter, with the
    # token axis fixed at text_max_length (masked zero padding leaves the mean-pooled embedding unchanged).
    tokens = pad_tokens(tokenize(enc.tokenizer, ["ཀ་ཁ་ག", "བཀྲ་ཤིས་བདེ་ལེགས"], enc.text_max_length), enc.text_max_length)
    seq = {0: ("batch", 1, MAX_BATCH)}
    export_onnx(_TextTower(enc.model), (tokens["input_ids"], tokens["attention_mask"]),
                out_dir / "line_text_tower.onnx", ["input_ids", "attention_mask"], ["embeddings"],
                {"input_ids": seq, "attention_mask": seq}, {**meta, "tower": "text"}, dynamo=False)
    manifest: dict[str, Any] = {**meta, "opset": OPSET}
    if int8:
        manifest["int8"] = quantize_int8(out_dir / "line_image_tower.onnx", out_dir / "line_image_tower.int8.onnx")
    manifest["parity"] = line_parity(enc, out_dir)
    manifest["files"] = {p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                         for p in sorted(out_dir.glob("*.onnx"))}
    atomic_write_json(out_dir / "export.json", manifest)
    return manifest


def line_parity(enc: Any, out_dir: Path) -> dict[str, float]:
    """Max |ONNX - torch| for random canvases and a few texts, at batch 1 and 3."""
    from hieralign.data.lines.batches import tokenize

    rng = np.random.default_rng(0)
    canvases = rng.integers(0, 256, size=(3, enc.preprocess.height, enc.preprocess.width)).astype(np.uint8)
    texts = ["ཀ", "བཀྲ་ཤིས་བདེ་ལེགས", "hello 漢字"]
    image, text = session(out_dir / "line_image_tower.onnx"), session(out_dir / "line_text_tower.onnx")
    report: dict[str, float] = {}
    with torch.no_grad():
        for n in (1, 3):
            px = torch.from_numpy(canvases[:n]).float()[:, None] / 255.0
            ref = enc.model.encode_image(px).numpy()
            report[f"image_max_abs_diff_batch{n}"] = float(np.abs(image.run(None, {"pixel_values": px.numpy()})[0] - ref).max())
            short = tokenize(enc.tokenizer, texts[:n], enc.text_max_length)  # what PyTorch search uses
            ref_t = enc.model.encode_text(short["input_ids"], short["attention_mask"]).numpy()
            tok = pad_tokens(short, enc.text_max_length)
            got_t = text.run(None, {"input_ids": tok["input_ids"].numpy().astype(np.int64),
                                    "attention_mask": tok["attention_mask"].numpy().astype(np.int64)})[0]
            report[f"text_max_abs_diff_batch{n}"] = float(np.abs(got_t - ref_t).max())
    return report
