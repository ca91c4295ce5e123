"""`HierCodeWithHiGITA`: the one character model class, HierCode baseline or Hi-GITA.

`model(images)` returns the seed's dictionary: `logits` against the current candidate matrix
(set with `set_candidates`, None when no candidates are set) and `features` with the stroke,
radical and character levels. Zero-shot = encode candidate decompositions once, argmax cosine.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from hieralign.models.char.config import ModelConfig, preset_config
from hieralign.models.char.image_encoder import HierCodeImageEncoder, HiGITAImageEncoder
from hieralign.models.char.losses import FineGrainedContrastiveLoss, HierCodeLoss, image_image_loss
from hieralign.models.char.text_encoder import HierCodeTextEncoder, HiGITATextEncoder, TextBatch


class HierCodeWithHiGITA(nn.Module):
    def __init__(self, config: ModelConfig | None = None, *, use_higita_enhancement: bool | None = None,
                 ids_vocab_size: int | None = None, codebook_size: int | None = None):
        super().__init__()
        cfg = ModelConfig.from_dict((config or ModelConfig()).to_dict())  # own copy
        if use_higita_enhancement is not None:
            cfg.use_higita_enhancement = use_higita_enhancement
            cfg.name = "higita" if use_higita_enhancement else "hiercode"
        cfg.ids_vocab_size = ids_vocab_size if ids_vocab_size is not None else cfg.ids_vocab_size
        cfg.codebook_size = codebook_size if codebook_size is not None else cfg.codebook_size
        self.config = cfg
        if cfg.use_higita_enhancement:
            self.image_encoder: nn.Module = HiGITAImageEncoder(cfg.image, cfg.embed_dim, cfg.loss.token_dim)
            self.text_encoder: nn.Module = HiGITATextEncoder(cfg)
            self.criterion: nn.Module = FineGrainedContrastiveLoss(cfg.loss)
        else:
            self.image_encoder = HierCodeImageEncoder(cfg.image, cfg.embed_dim)
            self.text_encoder = HierCodeTextEncoder(cfg)
            self.criterion = HierCodeLoss()
        self.log_logit_scale = nn.Parameter(torch.tensor(math.log(cfg.loss.init_logit_scale)))
        self.register_buffer("candidate_embeddings", torch.empty(0, cfg.embed_dim), persistent=False)

    @property
    def use_higita_enhancement(self) -> bool:
        return self.config.use_higita_enhancement

    def logit_scale(self) -> torch.Tensor:
        return self.log_logit_scale.exp().clamp(max=self.config.loss.max_logit_scale)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """(B,1,H,W) float ink/255 -> (B,D) L2-normalised character embeddings."""
        return self.image_encoder(images)["character"]

    def encode_text_features(self, texts: TextBatch) -> dict[str, torch.Tensor]:
        if self.use_higita_enhancement:
            return self.text_encoder(texts.strokes, texts.ids)
        return self.text_encoder(texts.codes)

    def encode_text(self, texts: TextBatch) -> torch.Tensor:
        """Decompositions -> (N,D) L2-normalised character embeddings (class prototypes)."""
        return self.encode_text_features(texts)["character"]

    @torch.no_grad()
    def set_candidates(self, candidates: TextBatch | torch.Tensor) -> None:
        """Fix the candidate matrix that `forward` scores against (texts or ready embeddings)."""
        emb = candidates if isinstance(candidates, torch.Tensor) else self.encode_text(candidates)
        self.candidate_embeddings = emb.detach().to(self.log_logit_scale.device)

    def forward(self, images: torch.Tensor) -> dict[str, Any]:
        features = self.image_encoder(images)
        logits = None
        if self.candidate_embeddings.numel():
            logits = self.logit_scale() * features["character"] @ self.candidate_embeddings.t()
        return {"logits": logits, "features": features}

    def loss(self, images: torch.Tensor, image_labels: torch.Tensor, texts: TextBatch,
             text_labels: torch.Tensor, image_weight: float = 0.0, bank: torch.Tensor | None = None,
             bank_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Training loss of images against the texts of `text_labels` (positives by equal label),
        plus `image_weight` x the image<->image loss (same class = positive) when it is > 0.
        `bank`/`bank_labels`: Hi-GITA's memory bank of every training class (see the criterion)."""
        image = self.image_encoder(images)
        text = self.encode_text_features(texts)
        losses = self.criterion(image, text, image_labels, text_labels, self.logit_scale(), bank, bank_labels)
        if image_weight > 0:
            losses["image"] = image_image_loss(image["character"], image_labels, self.logit_scale())
            losses["total"] = losses["total"] + image_weight * losses["image"]
        return losses


class ImageTower(nn.Module):
    """Plain module for export: (B,1,H,W) float -> (B,D) normalised embedding."""

    def __init__(self, model: HierCodeWithHiGITA):
        super().__init__()
        self.encoder = model.image_encoder
        self.train(model.training)  # a fresh Module is in training mode; follow the model's mode instead

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)["character"]


class TextTower(nn.Module):
    """Plain module for export: Hi-GITA (strokes, ids) long tensors, HierCode (codes) float -> (B,D)."""

    def __init__(self, model: HierCodeWithHiGITA):
        super().__init__()
        self.encoder = model.text_encoder
        self.higita = model.use_higita_enhancement
        self.train(model.training)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.higita:
            return self.encoder(inputs[0], inputs[1])["character"]
        return self.encoder(inputs[0])["character"]


def create_model(preset: str = "balanced", **overrides: Any) -> HierCodeWithHiGITA:
    """Factory: `create_model("lite", ids_vocab_size=900)`; `standard` = HierCode baseline."""
    return HierCodeWithHiGITA(preset_config(preset, **overrides))
