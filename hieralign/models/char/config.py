"""Typed configs and presets for the character models (HierCode baseline and Hi-GITA).

The presets are sized for the machines this project trains on (2 CPU cores): a strided
depthwise-separable CNN gives the 8x8 = 64 stroke tokens, small attention layers do the rest.
`full` is meant for a GPU. Numbers per preset (params, FLOPs, glyphs/s) are in docs/HIGITA.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass
class ImageEncoderConfig:
    image_size: int = 64  # input side in pixels (glyphs are square, ink intensity / 255)
    patch_size: int = 4  # stem = non-overlapping patch conv with this stride (64 -> 16 px)
    stem_channels: int = 64  # channels of the patch stem
    stage_channels: tuple[int, ...] = (64, 128)  # widths at 16 and 8 px; the last is the stroke-token width
    blocks_per_stage: tuple[int, ...] = (1, 1)  # 3x3 conv blocks per stage (first of a later stage strides 2)
    num_radicals: int = 16  # K learned radical queries cross-attending to the 64 stroke tokens
    radical_dim: int = 128  # width of the radical tokens
    heads: int = 4  # attention heads in the radical and character levels
    radical_layers: int = 1  # query cross-attention + FFN blocks at the radical level
    dropout: float = 0.0  # dropout inside attention blocks (0 on CPU presets: data is the regulariser)


@dataclass
class TextEncoderConfig:
    dim: int = 128  # width of stroke and IDS token embeddings
    stroke_layers: int = 1  # transformer layers over the stroke-class sequence
    ids_layers: int = 2  # transformer layers over the prefix-order IDS tokens
    fusion_layers: int = 1  # cross-attention layers fusing strokes + IDS into one character token
    heads: int = 4  # attention heads
    max_strokes: int = 40  # stroke sequences are truncated here (Jōyō max is 29; a few JIS chars have more)
    max_ids_tokens: int = 40  # IDS token sequences are truncated here
    dropout: float = 0.0  # dropout inside the text transformers


@dataclass
class LossConfig:
    weight_stroke: float = 0.3  # token-level (max-sim) alignment of image stroke tokens with stroke classes
    weight_radical: float = 0.5  # token-level alignment of image radical tokens with IDS tokens
    weight_character: float = 0.2  # character-level InfoNCE (the score used at inference)
    token_dim: int = 64  # shared space for the token-level late interaction
    token_loss_max_images: int = 64  # token-level losses use at most this many images per rank (cost is B*T*64*L)
    init_logit_scale: float = 14.285714  # 1/0.07, as in CLIP
    max_logit_scale: float = 100.0  # the learnable scale is clamped here


@dataclass
class ModelConfig:
    name: str = "higita"  # "higita" or "hiercode"
    preset: str = "balanced"  # preset the config was built from (informational)
    use_higita_enhancement: bool = True  # False = HierCode baseline (codebook prototypes, no token levels)
    embed_dim: int = 256  # dimension of the character embeddings compared by cosine
    ids_vocab_size: int = 0  # set from the IDS vocabulary when the model is built for data
    codebook_size: int = 0  # set from the HierCode codebook (multi-hot width) for the baseline
    num_stroke_classes: int = 5  # SD's five stroke classes, token ids 1..5 (0 = padding)
    image: ImageEncoderConfig = field(default_factory=ImageEncoderConfig)  # image tower
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)  # text tower (Hi-GITA only)
    loss: LossConfig = field(default_factory=LossConfig)  # loss weights and logit scale

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        sub = {"image": ImageEncoderConfig, "text": TextEncoderConfig, "loss": LossConfig}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in sub:
                value = _sub_from_dict(sub[f.name], value)
            kwargs[f.name] = value
        return cls(**kwargs)


def _sub_from_dict(kind: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(kind)}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
    return kind(**values)


def _lite() -> ModelConfig:
    return ModelConfig(
        preset="lite", embed_dim=128,
        image=ImageEncoderConfig(stem_channels=48, stage_channels=(48, 96), radical_dim=96),
        text=TextEncoderConfig(dim=64, stroke_layers=1, ids_layers=1, fusion_layers=1),
        loss=LossConfig(token_dim=32, token_loss_max_images=32),
    )


def _balanced() -> ModelConfig:
    return ModelConfig(preset="balanced")


def _full() -> ModelConfig:
    return ModelConfig(
        preset="full", embed_dim=512,
        image=ImageEncoderConfig(stem_channels=96, stage_channels=(128, 256), blocks_per_stage=(2, 3),
                                 radical_dim=256, heads=8, radical_layers=2),
        text=TextEncoderConfig(dim=256, stroke_layers=2, ids_layers=3, fusion_layers=2, heads=8),
        loss=LossConfig(token_dim=128, token_loss_max_images=256),
    )


def _standard() -> ModelConfig:
    cfg = _balanced()
    return replace(cfg, name="hiercode", preset="standard", use_higita_enhancement=False)


PRESETS = {"lite": _lite, "balanced": _balanced, "full": _full, "standard": _standard}


def preset_config(preset: str = "balanced", **overrides: Any) -> ModelConfig:
    """Config of a named preset with top-level overrides (e.g. use_higita_enhancement=False)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    cfg = PRESETS[preset]()
    unknown = set(overrides) - {f.name for f in fields(ModelConfig)}
    if unknown:
        raise ValueError(f"unknown ModelConfig fields: {sorted(unknown)}")
    cfg = replace(cfg, **overrides)
    if "use_higita_enhancement" in overrides and "name" not in overrides:
        cfg.name = "higita" if cfg.use_higita_enhancement else "hiercode"
    return cfg
