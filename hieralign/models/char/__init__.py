"""Zero-shot character recognition models: HierCode (baseline) and Hi-GITA.

Public API: `HierCodeWithHiGITA`, `create_model`, `ModelConfig` + presets, `TextBatch`,
`CharRecognizer` (import from `hieralign.models.char.recognizer`).

The names are resolved on first use (PEP 562), so importing a submodule that needs no torch
(the ONNX path: zeroshot, candidates, preprocess) does not pay torch's ~2 s import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hieralign.models.char.config import PRESETS, ModelConfig, preset_config
    from hieralign.models.char.model import HierCodeWithHiGITA, ImageTower, TextTower, create_model
    from hieralign.models.char.text_encoder import TextBatch

_HOMES = {"PRESETS": "config", "ModelConfig": "config", "preset_config": "config", "HierCodeWithHiGITA": "model",
          "ImageTower": "model", "TextTower": "model", "create_model": "model", "TextBatch": "text_encoder"}
__all__ = ["PRESETS", "ModelConfig", "preset_config", "HierCodeWithHiGITA", "ImageTower", "TextTower",
           "create_model", "TextBatch"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
