"""`CharRecognizer`: zero-shot recognition with a trained checkpoint against any candidate set.

    rec = CharRecognizer.from_checkpoint("runs/higita/best.safetensors")
    rec.recognize([glyph_uint8], candidates="joyo", top_k=5)
    -> [[{"char": "漢", "score": 0.83, "decomposition": "⿰氵𦰩"}, ...]]

Candidate embeddings are cached per (tokenizer hash, checkpoint hash, candidate list hash), so
switching between candidate sets costs one encoding each.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hieralign.models.char.config import ModelConfig
from hieralign.models.char.model import HierCodeWithHiGITA, ImageTower, TextTower
from hieralign.models.char.preprocess import prepare_glyph, to_tensor
from hieralign.models.char.texts import DecompositionTokenizer
from hieralign.utils.progress import progress

TEXT_CHUNK = 1024  # candidates encoded per forward pass


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class CharRecognizer:
    def __init__(self, model: HierCodeWithHiGITA, tokenizer: DecompositionTokenizer, meta: dict[str, Any],
                 checkpoint_hash: str = "", device: str = "cpu"):
        self.model = model.to(device).eval()
        self.tokenizer, self.meta, self.device = tokenizer, meta, torch.device(device)
        self.checkpoint_hash = checkpoint_hash
        self.image_size = int(meta.get("preprocessing", {}).get("image_size", model.config.image.image_size))
        self.margin = int(meta.get("preprocessing", {}).get("margin", 4))
        self._cache: dict[tuple[str, str, str], torch.Tensor] = {}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str = "cpu") -> CharRecognizer:
        from hieralign.utils.checkpoint import load_weights

        path = Path(path)
        if path.is_dir():
            path = path / "best.safetensors"
        state, meta = load_weights(path)
        if "config" not in meta or "tokenizer" not in meta:
            raise ValueError(f"{path}: not a hieralign character checkpoint (no config/tokenizer in its metadata)")
        model = HierCodeWithHiGITA(ModelConfig.from_dict(meta["config"]))
        model.load_state_dict(state)
        tokenizer = DecompositionTokenizer.from_meta(meta["tokenizer"])
        return cls(model, tokenizer, meta, _file_hash(path), device)

    @property
    def image_tower(self) -> ImageTower:
        return ImageTower(self.model).eval()

    @property
    def text_tower(self) -> TextTower:
        return TextTower(self.model).eval()

    @property
    def region(self) -> str:
        return self.tokenizer.region

    @torch.no_grad()
    def encode_images(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """float (B,1,H,W) ink/255 -> (B,D) L2-normalised."""
        out = [self.model.encode_image(images[i:i + batch_size].to(self.device))
               for i in range(0, len(images), batch_size)]
        return torch.cat(out) if out else torch.zeros(0, self.model.config.embed_dim)

    @torch.no_grad()
    def encode_candidates(self, chars: list[str]) -> torch.Tensor:
        """Candidate characters -> (N,D) L2-normalised text embeddings (cached)."""
        key = (self.tokenizer.hash, self.checkpoint_hash, hashlib.sha256("".join(chars).encode()).hexdigest())
        if key not in self._cache:
            chunks = range(0, len(chars), TEXT_CHUNK)
            bar = progress(chunks, desc="encoding candidates", disable=True if len(chars) <= 4 * TEXT_CHUNK else None)
            out = [self.model.encode_text(self.tokenizer.encode(chars[i:i + TEXT_CHUNK]).to(self.device)) for i in bar]
            self._cache[key] = torch.cat(out) if out else torch.zeros(0, self.model.config.embed_dim)
        return self._cache[key]

    def prepare(self, images: list[np.ndarray] | np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 arrays (any size, either polarity) or a ready float tensor -> (B,1,S,S) float."""
        if isinstance(images, torch.Tensor):
            return images.float()
        return to_tensor([prepare_glyph(np.asarray(im), self.image_size, self.margin) for im in images])

    def recognize(self, images: list[np.ndarray] | np.ndarray | torch.Tensor, candidates: str | list[str] = "etl9g",
                  top_k: int = 5) -> list[list[dict[str, Any]]]:
        """Top-k candidates per image, each {char, score (cosine), decomposition (IDS)}."""
        chars = resolve_candidates(candidates)
        cand = self.encode_candidates(chars)
        emb = self.encode_images(self.prepare(images))
        scores, index = (emb @ cand.t()).topk(min(top_k, len(chars)), dim=1)
        return [[{"char": chars[j], "score": round(float(s), 4), "decomposition": self.decomposition(chars[j])}
                 for s, j in zip(row_s.tolist(), row_i.tolist())] for row_s, row_i in zip(scores, index)]

    def decomposition(self, ch: str) -> str:
        from hieralign.knowledge.ids import IDSDatabase

        return IDSDatabase.load().ids(ch, self.region) or ch

    def card(self) -> dict[str, Any]:
        """Model card: what this model is, what it was trained on, how to feed it."""
        m = self.meta
        return {
            "model": m.get("model"), "preset": m.get("preset"), "checkpoint_hash": self.checkpoint_hash,
            "vocab_hash": self.tokenizer.hash, "region": self.region,
            "charset": {"protocol": m.get("protocol"), "train_classes": len(m.get("train_chars", "")),
                        "val_classes": len(m.get("val_chars", ""))},
            "preprocessing": m.get("preprocessing"), "training_data": m.get("data"), "training_args": m.get("training"),
            "epoch": m.get("epoch"), "val_top1": m.get("val_top1"),
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }


def resolve_candidates(candidates: str | list[str]) -> list[str]:
    """A charset name / comma list / `all` / file path, or an explicit list of characters."""
    if isinstance(candidates, str):
        from hieralign.knowledge.charsets import load_charset_arg

        return load_charset_arg(candidates)
    chars = [c for c in candidates if c and not c.isspace()]
    if not chars:
        raise ValueError("empty candidate list")
    return list(dict.fromkeys(chars))
