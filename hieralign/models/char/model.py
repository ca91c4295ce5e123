"""`HierCodeWithHiGITA`: the one character model class, HierCode baseline or Hi-GITA.

`model(images)` returns the seed's dictionary: `logits` against the current candidate matrix
(set with `set_candidates`, None when no candidates are set) and `features` with the stroke,
radical and character levels. Zero-shot = encode candidate decompositions once, argmax cosine.

Two ways to store it, both loaded without pickles:
- the training runs' single self-describing `.safetensors` file (weights + config, tokenizer,
  charset, preprocessing in its metadata; `hieralign.utils.checkpoint`), which
  `CharRecognizer.from_checkpoint` and the shipped model use;
- the Hugging Face folder (`huggingface_hub.PyTorchModelHubMixin`): `save_pretrained(dir)` writes
  `config.json` (the `ModelConfig`) + `model.safetensors` + a `README.md` card, and
  `from_pretrained(dir_or_hub_id)` reads it back. `model.safetensors` carries the same metadata
  as the single file (`checkpoint_meta`, e.g. the tokenizer), so `CharRecognizer.from_checkpoint`
  also loads such a folder; `save_pretrained_checkpoint` converts a single file into one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from hieralign.models.char.config import ModelConfig, preset_config
from hieralign.models.char.image_encoder import HierCodeImageEncoder, HiGITAImageEncoder
from hieralign.models.char.losses import FineGrainedContrastiveLoss, HierCodeLoss, image_image_loss
from hieralign.models.char.text_encoder import HierCodeTextEncoder, HiGITATextEncoder, TextBatch

_CARD = """---
{{ card_data }}
---

# hieralign character model

A zero-shot CJK character recogniser (HierCode codebooks or Hi-GITA stroke / IDS towers) of the
`hieralign` package.
`config.json` is its `ModelConfig`; `model.safetensors` holds the weights and, in its metadata,
the tokenizer and training record that a recogniser needs.

```python
from hieralign.models.char.model import HierCodeWithHiGITA
model = HierCodeWithHiGITA.from_pretrained("<this folder or hub id>")
```
"""


class HierCodeWithHiGITA(nn.Module, PyTorchModelHubMixin, library_name="hieralign",
                         tags=["ocr", "zero-shot", "cjk"], model_card_template=_CARD):
    def __init__(self, config: ModelConfig | dict | None = None, *, use_higita_enhancement: bool | None = None,
                 ids_vocab_size: int | None = None, codebook_size: int | None = None):
        super().__init__()
        # own copy; the hub mixin hands config.json back as a dict (string annotations hide the dataclass)
        cfg = ModelConfig.from_dict(config if isinstance(config, dict) else (config or ModelConfig()).to_dict())
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
        self.checkpoint_meta: dict[str, Any] = {}  # tokenizer, charset, training record: saved with the weights

    def _save_pretrained(self, save_directory: Path) -> None:
        """config.json from the model's own config (not the mixin's record of the constructor's
        arguments) and model.safetensors with the hieralign metadata beside the HF format tag."""
        from safetensors.torch import save_file

        from hieralign.utils.checkpoint import META_KEY

        cfg = self.config.to_dict()
        meta = {**self.checkpoint_meta, "model": self.config.name, "preset": self.config.preset, "config": cfg}
        (save_directory / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")
        tensors = {k: v.detach().cpu().contiguous().clone() for k, v in self.state_dict().items()}
        save_file(tensors, str(save_directory / "model.safetensors"),
                  metadata={"format": "pt", META_KEY: json.dumps(meta, ensure_ascii=False, default=str)})

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs: Any) -> HierCodeWithHiGITA:
        """A folder written by `save_pretrained`, or a Hugging Face Hub id (downloaded through
        huggingface_hub). Anything that is neither ends in one FileNotFoundError."""
        name = str(pretrained_model_name_or_path)
        if os.path.isdir(name):
            if not os.path.isfile(os.path.join(name, "model.safetensors")):
                raise FileNotFoundError(f"{name}: no model.safetensors (not a save_pretrained folder)")
            return super().from_pretrained(name, **kwargs)
        try:
            return super().from_pretrained(name, **kwargs)
        except Exception as exc:  # huggingface_hub raises many kinds (validation, HTTP, offline, cache)
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise FileNotFoundError(f"{name}: not a local folder, and not loadable from the Hugging Face Hub "
                                    f"({reason})") from exc

    @classmethod
    def _from_pretrained(cls, *, model_id: str, **kwargs: Any) -> HierCodeWithHiGITA:
        """Weights (+ metadata) strictly, from the folder or the hub's copy of model.safetensors."""
        from hieralign.utils.checkpoint import load_weights

        if os.path.isdir(model_id):
            path = os.path.join(model_id, "model.safetensors")
        else:
            from huggingface_hub import hf_hub_download

            hub_args = ("revision", "cache_dir", "force_download", "local_files_only", "token")
            path = hf_hub_download(repo_id=model_id, filename="model.safetensors",
                                   **{k: kwargs[k] for k in hub_args if k in kwargs})
        state, meta = load_weights(path, device=kwargs.get("map_location", "cpu"))
        config = meta.get("config") or kwargs.get("config")
        if not config:
            raise ValueError(f"{model_id}: no model config in config.json or in the weights' metadata")
        model = cls(ModelConfig.from_dict(config))
        model.load_state_dict(state)  # strict: every weight of this architecture, nothing else
        model.checkpoint_meta = {k: v for k, v in meta.items() if k not in ("model", "preset", "config")}
        return model

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


def save_pretrained_checkpoint(checkpoint: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert a single-file training checkpoint into a `save_pretrained` folder (metadata kept)."""
    from hieralign.utils.checkpoint import load_weights

    state, meta = load_weights(checkpoint)
    if "config" not in meta:
        raise ValueError(f"{checkpoint}: not a hieralign character checkpoint (no config in its metadata)")
    model = HierCodeWithHiGITA(ModelConfig.from_dict(meta["config"]))
    model.load_state_dict(state)
    model.checkpoint_meta = {k: v for k, v in meta.items() if k not in ("model", "preset", "config")}
    model.save_pretrained(Path(out_dir))
    return Path(out_dir)
