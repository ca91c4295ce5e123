"""Line-CLIP: a DINOv2 vision tower and a ByT5 (T5 encoder) text tower in one embedding space.

Both towers are Hugging Face models so that `--model-name-or-path facebook/dinov2-base` and
`--text-encoder-name-or-path google/byt5-small` work unchanged (hub id or local directory, real
`from_pretrained`), while the named configs `tiny` and `small` build randomly initialised towers
that train on a CPU. Features are mean-pooled (images over the patches that hold the line, text
over its real bytes), projected, and L2-normalised. The logit scale is learnable, starts at
1/0.07 and is clamped to <= 100, as in CLIP.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# Named from-scratch configs, sized for 2 CPU cores (see docs/LINES.md for the measured cost).
# The default 48x384 canvas with patch 16 gives 3 x 24 = 72 image tokens. `conv_stem` (stored in
# the Dinov2 config.json) replaces the single patch-embedding convolution by small stride-2 3x3
# convolutions: a plain 16x16 patchify does not generalise from ~10k lines, a conv stem does.
VISION_CONFIGS: dict[str, dict] = {
    "tiny": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                 patch_size=16, image_size=64, num_channels=1, conv_stem=[8]),
    "small": dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=4, intermediate_size=192,
                  patch_size=16, image_size=384, num_channels=1, conv_stem=[32, 64]),
    "small-patchify": dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=4, intermediate_size=192,
                           patch_size=16, image_size=384, num_channels=1),
}
TEXT_CONFIGS: dict[str, dict] = {
    "tiny": dict(d_model=32, d_kv=16, num_heads=2, d_ff=64, num_layers=1),
    "small": dict(d_model=64, d_kv=16, num_heads=4, d_ff=128, num_layers=2),
}


@dataclass
class LineCLIPConfig:
    """What builds a LineCLIP; saved next to the weights so a model directory describes itself."""

    vision: str = "small"  # named config (tiny|small), hub id, or local dir of a Dinov2 model
    text: str = "small"  # named config (tiny|small), hub id, or local dir of a (By)T5 model
    embed_dim: int = 256  # shared embedding size
    init_logit_scale: float = 1 / 0.07  # CLIP's initial temperature
    max_logit_scale: float = 100.0  # clamp so the softmax never collapses to one-hot
    dropout: float = 0.0  # tower dropout for from-scratch configs
    loss: str = "infonce"  # infonce | siglip (siglip adds a learnable logit bias, scale starts at 10)

    def to_dict(self) -> dict:
        return asdict(self)


class ConvStem(nn.Sequential):
    """Drop-in for Dinov2's patch projection (which reads `.weight.dtype` to cast its input)."""

    @property
    def weight(self) -> torch.Tensor:
        return self[-1].weight  # type: ignore[return-value]  # the last layer is a Conv2d


def conv_stem(channels: list[int], in_channels: int, hidden: int, patch: int) -> ConvStem:
    """3x3 stride-2 conv + GELU per entry of `channels`, then a patch conv to `hidden` (total stride `patch`)."""
    layers: list[nn.Module] = []
    for out_channels in channels:
        layers += [nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1), nn.GELU()]
        in_channels = out_channels
    rest = patch // 2 ** len(channels)
    if rest < 1 or rest * 2 ** len(channels) != patch:
        raise ValueError(f"conv_stem {channels} does not divide patch_size {patch}")
    layers.append(nn.Conv2d(in_channels, hidden, rest, stride=rest))
    return ConvStem(*layers)


def _install_stem(model: Any) -> nn.Module:
    cfg = model.config
    if getattr(cfg, "conv_stem", None):
        model.embeddings.patch_embeddings.projection = conv_stem(
            list(cfg.conv_stem), cfg.num_channels, cfg.hidden_size, cfg.patch_size)
    return model


def build_vision_tower(name: str, dropout: float = 0.0) -> nn.Module:
    from transformers import Dinov2Config, Dinov2Model

    if name in VISION_CONFIGS:
        cfg = Dinov2Config(**VISION_CONFIGS[name], hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
        return _install_stem(Dinov2Model(cfg))
    cfg = _pretrained_config(Dinov2Config, name, "--model-name-or-path")
    if not getattr(cfg, "conv_stem", None):
        return Dinov2Model.from_pretrained(name)
    # A conv-stem tower saved by us: rebuild the stem, then load every weight strictly.
    from pathlib import Path

    from safetensors.torch import load_file

    model = _install_stem(Dinov2Model(cfg))
    model.load_state_dict(load_file(str(Path(name) / "model.safetensors")), strict=True)
    return model


def _pretrained_config(config_class, name: str, flag: str):
    try:
        return config_class.from_pretrained(name)
    except OSError as exc:
        raise OSError(f"{flag} {name!r}: not a named config ({', '.join(VISION_CONFIGS)} / {', '.join(TEXT_CONFIGS)}), "
                      f"not a local directory with config.json, and not downloadable here ({exc}). Pass a directory "
                      "written by save_pretrained (e.g. a previous run's text_hierarchy_vit_backbone/) or a named config.") from exc


def build_text_tower(name: str, dropout: float = 0.0) -> nn.Module:
    from transformers import T5Config, T5EncoderModel

    if name in TEXT_CONFIGS:
        # ByT5 vocabulary: 3 special tokens + 256 bytes + 125 sentinels = 384.
        cfg = T5Config(vocab_size=384, **TEXT_CONFIGS[name], dropout_rate=dropout, feed_forward_proj="gated-gelu",
                       is_encoder_decoder=False, use_cache=False, pad_token_id=0, eos_token_id=1)
        return T5EncoderModel(cfg)
    _pretrained_config(T5Config, name, "--text-encoder-name-or-path")
    return T5EncoderModel.from_pretrained(name)


def build_tokenizer(name: str):
    """ByT5's byte tokenizer (needs no files); a saved/hub tokenizer if `name` has one."""
    from transformers import ByT5Tokenizer

    if name in TEXT_CONFIGS:
        return ByT5Tokenizer()
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError):
        return ByT5Tokenizer()


def content_mask(pixel_values: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, rows*cols) bool: patch columns up to the last inked column (the rest is right padding)."""
    inked_cols = pixel_values.abs().amax(dim=(1, 2)) > 0  # (B, W)
    width = pixel_values.shape[-1]
    positions = torch.arange(width, device=pixel_values.device)
    last = torch.where(inked_cols, positions, torch.full_like(positions, -1)).amax(dim=1)  # (B,)
    cols = width // patch
    col_has_line = torch.arange(cols, device=pixel_values.device)[None, :] * patch <= last[:, None]
    col_has_line[:, 0] = True  # an empty image still pools its first column
    rows = pixel_values.shape[-2] // patch
    return col_has_line.repeat(1, rows)


class LineCLIP(nn.Module):
    """Dual encoder: `encode_image(pixel_values)` and `encode_text(input_ids, attention_mask)`."""

    def __init__(self, config: LineCLIPConfig):
        super().__init__()
        self.config = config
        # Hugging Face towers: typed Any, their attributes come from their own configs
        image_tower: Any = build_vision_tower(config.vision, config.dropout)
        text_tower: Any = build_text_tower(config.text, config.dropout)
        self.image_tower, self.text_tower = image_tower, text_tower
        mask_token = getattr(image_tower.embeddings, "mask_token", None)
        if mask_token is not None:  # only used for masked-image pretraining; DDP rejects gradient-less params
            mask_token.requires_grad_(False)
        self.image_projection = nn.Linear(image_tower.config.hidden_size, config.embed_dim, bias=False)
        self.text_projection = nn.Linear(text_tower.config.d_model, config.embed_dim, bias=False)
        siglip = config.loss == "siglip"
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0 if siglip else config.init_logit_scale)))
        # Only SigLIP has a bias; creating it otherwise would leave a DDP parameter without gradient.
        self.logit_bias = nn.Parameter(torch.tensor(-10.0)) if siglip else None

    @property
    def patch_size(self) -> int:
        return int(self.image_tower.config.patch_size)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=self.config.max_logit_scale)

    def image_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Mean-pooled, unnormalised tower output for (B, 1, H, W) ink in [0, 1]."""
        channels = int(self.image_tower.config.num_channels)
        x = pixel_values
        if channels != x.shape[1]:
            # Pretrained DINOv2 expects normalised RGB of dark-on-light; give it paper-white images.
            x = ((1.0 - x) - 0.45) / 0.25
            x = x.expand(-1, channels, -1, -1)
        hidden = self.image_tower(pixel_values=x).last_hidden_state[:, 1:]  # drop CLS, keep patches
        mask = content_mask(pixel_values, self.patch_size).to(hidden.dtype).unsqueeze(-1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_projection(self.image_features(pixel_values)), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.text_tower(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return F.normalize(self.text_projection(pooled), dim=-1)

    def forward(self, pixel_values, input_ids, attention_mask) -> dict[str, torch.Tensor]:
        out = {"image_embeds": self.encode_image(pixel_values),
               "text_embeds": self.encode_text(input_ids, attention_mask),
               "logit_scale": self.scale()}
        if self.logit_bias is not None:
            out["logit_bias"] = self.logit_bias
        return out


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
