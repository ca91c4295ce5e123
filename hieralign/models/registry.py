"""One model registry: `create_model(name, **overrides)` and `list_models()`.

Character models (HierCode / Hi-GITA presets) and line models (line-CLIP configs) are built by
name, like open_clip's `create_model`. `tiny-test` is the ~75 k-parameter Hi-GITA that the test
support (`hieralign.testing`) trains in seconds: the real classes, sized for a test's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    kind: str  # "char" or "line"
    description: str  # one line for `list_models()` and the docs
    build: Callable[..., nn.Module]  # overrides -> a fresh, randomly initialised module


def _char(preset: str, **defaults: Any) -> Callable[..., nn.Module]:
    def build(**overrides: Any) -> nn.Module:
        from hieralign.models.char.config import preset_config
        from hieralign.models.char.model import HierCodeWithHiGITA

        return HierCodeWithHiGITA(preset_config(preset, **{**defaults, **overrides}))

    return build


def tiny_test_config(image_size: int = 32, **overrides: Any):
    """The `tiny-test` character config (lite layers, narrowed; 32 px glyphs by default)."""
    from hieralign.models.char.config import ImageEncoderConfig, LossConfig, TextEncoderConfig, preset_config

    return preset_config(
        "lite", embed_dim=64,
        image=ImageEncoderConfig(image_size=image_size, stem_channels=16, stage_channels=(16, 32, 48),
                                 blocks_per_stage=(1, 1, 1), num_radicals=8, radical_dim=32, heads=2),
        text=TextEncoderConfig(dim=32, heads=2, stroke_layers=1, ids_layers=1, fusion_layers=1),
        loss=LossConfig(token_dim=32), **overrides)


def _tiny_test(image_size: int = 32, **overrides: Any) -> nn.Module:
    from hieralign.models.char.model import HierCodeWithHiGITA

    return HierCodeWithHiGITA(tiny_test_config(image_size, **overrides))


def _line(config: str) -> Callable[..., nn.Module]:
    def build(**overrides: Any) -> nn.Module:
        from hieralign.models.line.clip import LineCLIP, LineCLIPConfig

        return LineCLIP(LineCLIPConfig(**{"vision": config, "text": config, **overrides}))

    return build


MODELS: dict[str, ModelEntry] = {
    "lite": ModelEntry("char", "Hi-GITA, smallest preset (CPU minutes)", _char("lite")),
    "balanced": ModelEntry("char", "Hi-GITA, default preset", _char("balanced")),
    "full": ModelEntry("char", "Hi-GITA, largest preset (GPU)", _char("full")),
    "standard": ModelEntry("char", "HierCode baseline (codebook prototypes)", _char("standard")),
    "hiercode": ModelEntry("char", "alias of standard", _char("standard")),
    "higita": ModelEntry("char", "alias of balanced", _char("balanced")),
    "tiny-test": ModelEntry("char", "~75 k-parameter Hi-GITA for tests (32 px)", _tiny_test),
    "line-clip-tiny": ModelEntry("line", "line-CLIP, tiny DINOv2 + ByT5 configs (tests)", _line("tiny")),
    "line-clip-small": ModelEntry("line", "line-CLIP, small DINOv2 + ByT5 configs (CPU)", _line("small")),
}


def list_models(kind: str | None = None) -> list[str]:
    """Registered names, optionally of one kind ("char" or "line")."""
    return [name for name, entry in MODELS.items() if kind is None or entry.kind == kind]


def create_model(name: str, **overrides: Any) -> nn.Module:
    """A fresh model by registry name; `overrides` go to the model's config."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name].build(**overrides)
