"""`CharRecognizer`: the zero-shot core (`ZeroShotClassifier`) over a PyTorch checkpoint.

    rec = CharRecognizer.from_checkpoint("runs/higita/best.safetensors")
    rec.recognize([glyph_uint8], candidates="joyo", top_k=5)
    -> [[{"char": "漢", "score": 0.83, "decomposition": "⿰氵𦰩", "glyph_score": ..., ...}]]

Scoring, candidate matrices (cached in memory and on disk) and preprocessing are the core's;
this class only loads the checkpoint and keeps the torch-typed helpers export and eval use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hieralign.models.char.candidates import build_candidates, resolve_candidates
from hieralign.models.char.config import ModelConfig
from hieralign.models.char.model import HierCodeWithHiGITA, ImageTower, TextTower
from hieralign.models.char.texts import DecompositionTokenizer
from hieralign.models.char.zeroshot import TorchCharEncoder, ZeroShotClassifier
from hieralign.utils.io import file_hash

__all__ = ["CharRecognizer", "resolve_candidates"]


class CharRecognizer(ZeroShotClassifier):
    def __init__(self, model: HierCodeWithHiGITA, tokenizer: DecompositionTokenizer, meta: dict[str, Any],
                 checkpoint_hash: str = "", device: str = "cpu"):
        self.torch_encoder = TorchCharEncoder(model, tokenizer, meta, checkpoint_hash, device)
        super().__init__(self.torch_encoder, meta, tokenizer.region)
        self.model, self.tokenizer, self.checkpoint_hash = self.torch_encoder.model, tokenizer, checkpoint_hash
        self.device = self.torch_encoder.device
        self._text_cache: dict[str, torch.Tensor] = {}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str = "cpu") -> CharRecognizer:
        from hieralign.utils.checkpoint import load_weights

        path = Path(path)
        if path.is_dir():
            path = path / "best.safetensors" if (path / "best.safetensors").is_file() else path / "model.safetensors"
        state, meta = load_weights(path)
        if "config" not in meta or "tokenizer" not in meta:
            raise ValueError(f"{path}: not a hieralign character checkpoint (no config/tokenizer in its metadata)")
        model = HierCodeWithHiGITA(ModelConfig.from_dict(meta["config"]))
        model.load_state_dict(state)
        tokenizer = DecompositionTokenizer.from_meta(meta["tokenizer"])
        return cls(model, tokenizer, meta, file_hash(path), device)

    @property
    def image_tower(self) -> ImageTower:
        return ImageTower(self.model).eval()

    @property
    def text_tower(self) -> TextTower:
        return TextTower(self.model).eval()

    def encode_images(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """float (B,1,H,W) ink/255 -> (B,D) L2-normalised (torch, for export parity and training code)."""
        return self.torch_encoder.encode_images_torch(images)

    def encode_candidates(self, chars: list[str]) -> torch.Tensor:
        """Candidate characters -> (N,D) decomposition embeddings (torch view of the cached matrix)."""
        key = "".join(chars)
        if key not in self._text_cache:
            matrix = build_candidates(self.encoder, list(chars), "decomposition")  # exactly these rows, unfolded
            self._text_cache[key] = torch.from_numpy(np.array(matrix.decomposition))
        return self._text_cache[key]

    def card(self) -> dict[str, Any]:
        """Model card: what this model is, what it was trained on, how to feed it."""
        m = self.meta
        return {
            "model": m.get("model"), "preset": m.get("preset"), "checkpoint_hash": self.checkpoint_hash,
            "vocab_hash": self.tokenizer.hash, "region": self.region,
            "charset": {"protocol": m.get("protocol"), "train_classes": len(m.get("train_chars", "")),
                        "val_classes": len(m.get("val_chars", ""))},
            "preprocessing": m.get("preprocessing"), "training_data": m.get("data"), "training_args": m.get("training"),
            "epoch": m.get("epoch"), "val_top1": m.get("val_top1"), "glyph_weight": self.glyph_weight,
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }
