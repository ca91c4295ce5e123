"""Zero-shot character recognition models: HierCode (baseline) and Hi-GITA.

Public API: `HierCodeWithHiGITA`, `create_model`, `ModelConfig` + presets, `TextBatch`,
`CharRecognizer` (import from `hieralign.models.char.recognizer`).
"""

from hieralign.models.char.config import PRESETS, ModelConfig, preset_config
from hieralign.models.char.model import HierCodeWithHiGITA, ImageTower, TextTower, create_model
from hieralign.models.char.text_encoder import TextBatch

__all__ = ["PRESETS", "ModelConfig", "preset_config", "HierCodeWithHiGITA", "ImageTower", "TextTower",
           "create_model", "TextBatch"]
