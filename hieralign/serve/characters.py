"""`GET /v1/characters/{char}`: a character's decomposition and which loaded models know it."""

from __future__ import annotations

import unicodedata
from typing import Any

from hieralign.serve.limits import InputError

REGIONS = ("J", "G", "T", "K", "V")  # cjkvi-ids regional alternatives


def character_info(char: str, region: str, char_service: Any = None, line_service: Any = None) -> dict[str, Any]:
    ch = unicodedata.normalize("NFC", char)
    if len(ch) != 1:
        raise InputError(400, f"expected one character, got {len(ch)} code points ({char[:20]!r}); "
                              f"URL-encode a single character, e.g. /v1/characters/%E6%BC%A2")
    region = region.upper()
    if region not in REGIONS:
        raise InputError(400, f"region must be one of {', '.join(REGIONS)} (J for Japanese, G for Chinese)")
    from hieralign.knowledge.describe import describe

    try:
        info = describe(ch, region)
    except KeyError as exc:
        raise InputError(404, f"no decomposition known for {ch!r} (U+{ord(ch):04X}): {exc}") from exc
    info = dict(info) if isinstance(info, dict) else {"description": info}
    info.setdefault("char", ch)
    info.setdefault("codepoint", f"U+{ord(ch):04X}")
    info["models"] = _known_by(ch, char_service, line_service)
    return info


def _known_by(ch: str, char_service: Any, line_service: Any) -> dict[str, Any]:
    known: dict[str, Any] = {}
    if char_service is not None:
        default = char_service.default_candidates()
        known["char_model"] = {"name": char_service.name, "in_default_candidates": ch in default if default else None,
                               "note": "any character with a decomposition can be a zero-shot candidate"}
    if line_service is not None:
        # The line text encoder is byte-level (ByT5): every character is encodable.
        known["line_model"] = {"encodable": True}
    return known
