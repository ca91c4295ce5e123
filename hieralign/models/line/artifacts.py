"""Saving and loading a trained line-CLIP in the seed's artifact layout.

    <prefix>text_hierarchy_vit_backbone/            Dinov2Model.save_pretrained + hieralign_preprocess.json
    <prefix>text_hierarchy_projection_head.pt       image head state_dict (torch.load(weights_only=True))
    <prefix>text_hierarchy_clip_text_encoder/       T5EncoderModel + tokenizer save_pretrained
    <prefix>text_hierarchy_clip_text_projection_head.pt
    <prefix>line_clip.json                          LineCLIPConfig, logit scale/bias, text max length, preprocessing

`prefix` is empty for the final model and `checkpoint_step_XXXXXXX_` for periodic checkpoints.
Each head also gets a `.safetensors` copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hieralign.data.lines.batches import LineSet, tokenize
from hieralign.data.lines.preprocess import PreprocessConfig, preprocess_image, to_pixel_values
from hieralign.models.line.clip import LineCLIP, LineCLIPConfig
from hieralign.utils.io import atomic_save, atomic_write_json

BACKBONE = "text_hierarchy_vit_backbone"
IMAGE_HEAD = "text_hierarchy_projection_head"
TEXT_ENCODER = "text_hierarchy_clip_text_encoder"
TEXT_HEAD = "text_hierarchy_clip_text_projection_head"
CARD = "line_clip.json"


def _save_head(path: Path, head: torch.nn.Module) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous().clone() for k, v in head.state_dict().items()}
    atomic_save(path.with_suffix(".pt"), lambda tmp: torch.save(state, tmp))
    atomic_save(path.with_suffix(".safetensors"), lambda tmp: save_file(state, str(tmp)))


def save_line_clip(model: LineCLIP, tokenizer, out_dir: str | os.PathLike, preprocess: PreprocessConfig,
                   text_max_length: int, prefix: str = "", extra: dict | None = None) -> None:
    """Write the artifact set (see module doc) into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    backbone, text_dir = out / f"{prefix}{BACKBONE}", out / f"{prefix}{TEXT_ENCODER}"
    model.image_tower.save_pretrained(backbone)
    atomic_write_json(backbone / "hieralign_preprocess.json", preprocess.to_dict())
    model.text_tower.save_pretrained(text_dir)
    tokenizer.save_pretrained(text_dir)
    _save_head(out / f"{prefix}{IMAGE_HEAD}.pt", model.image_projection)
    _save_head(out / f"{prefix}{TEXT_HEAD}.pt", model.text_projection)
    card = {"format": "hieralign.line_clip/1", "config": model.config.to_dict(),
            "log_logit_scale": float(model.logit_scale.detach()), "logit_scale": float(model.scale().detach()),
            "logit_bias": None if model.logit_bias is None else float(model.logit_bias.detach()),
            "text_max_length": int(text_max_length), "preprocess": preprocess.to_dict(), **(extra or {})}
    atomic_write_json(out / f"{prefix}{CARD}", card)


def load_line_clip(model_dir: str | os.PathLike, prefix: str = "") -> tuple[LineCLIP, object, dict]:
    """(model in eval mode, tokenizer, card) from a directory written by `save_line_clip`."""
    from hieralign.models.line.clip import build_tokenizer

    root = Path(model_dir)
    card_path = root / f"{prefix}{CARD}"
    if not card_path.is_file():
        raise FileNotFoundError(f"{card_path} not found: {root} is not a line-CLIP model directory "
                                "(train one with `hieralign train line --output-dir DIR`)")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    saved = LineCLIPConfig(**card["config"])
    config = replace(saved, vision=str(root / f"{prefix}{BACKBONE}"), text=str(root / f"{prefix}{TEXT_ENCODER}"))
    model = LineCLIP(config)
    model.image_projection.load_state_dict(torch.load(root / f"{prefix}{IMAGE_HEAD}.pt", weights_only=True))
    model.text_projection.load_state_dict(torch.load(root / f"{prefix}{TEXT_HEAD}.pt", weights_only=True))
    with torch.no_grad():
        model.logit_scale.fill_(card["log_logit_scale"])
        if model.logit_bias is not None and card.get("logit_bias") is not None:
            model.logit_bias.fill_(card["logit_bias"])
    model.config = saved
    return model.eval(), build_tokenizer(config.text), card


@contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode inside the block, the caller's mode after it (validation runs mid-training)."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@dataclass
class LineEncoder:
    """A loaded model plus its preprocessing: embeds PIL images / canvases / texts in batches."""

    model: LineCLIP  # in eval mode
    tokenizer: object  # ByT5 tokenizer
    preprocess: PreprocessConfig  # the canvas the model was trained on
    text_max_length: int  # ByT5 tokens kept per text

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike, prefix: str = "") -> LineEncoder:
        model, tokenizer, card = load_line_clip(model_dir, prefix)
        return cls(model, tokenizer, PreprocessConfig(**card["preprocess"]), int(card["text_max_length"]))

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def embed_canvases(self, canvases: np.ndarray, batch_size: int = 128) -> np.ndarray:
        with _eval_mode(self.model):
            outs = [self.model.encode_image(to_pixel_values(canvases[i:i + batch_size]).to(self.device)).float().cpu()
                    for i in range(0, len(canvases), batch_size)]
        return torch.cat(outs).numpy().astype(np.float32) if outs else np.zeros((0, self.dim), np.float32)

    def embed_lines(self, lines: LineSet, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
        """(image, text) embeddings of every line of a LineSet: the one inference path of
        training validation, evaluation, the index and search (no augmentation, eval mode)."""
        image = self.embed_canvases(lines.canvases, batch_size)
        text = self.embed_texts(lines.texts, batch_size)
        return torch.from_numpy(image), torch.from_numpy(text)

    def embed_images(self, images: list[Image.Image], batch_size: int = 128) -> np.ndarray:
        canvases = np.stack([preprocess_image(im, self.preprocess) for im in images]) if images else \
            np.zeros((0, self.preprocess.height, self.preprocess.width), np.uint8)
        return self.embed_canvases(canvases, batch_size)

    @torch.no_grad()
    def embed_texts(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        from hieralign.data.lines.manifest import normalize_text

        outs = []
        with _eval_mode(self.model):
            for i in range(0, len(texts), batch_size):
                enc = tokenize(self.tokenizer, [normalize_text(t) for t in texts[i:i + batch_size]],
                               self.text_max_length)
                outs.append(self.model.encode_text(enc["input_ids"].to(self.device),
                                                   enc["attention_mask"].to(self.device)).float().cpu())
        return torch.cat(outs).numpy().astype(np.float32) if outs else np.zeros((0, self.dim), np.float32)

    @property
    def dim(self) -> int:
        return int(self.model.config.embed_dim)
