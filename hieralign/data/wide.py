"""The wide training vocabulary: every character the training families draw with real outlines.

    chars = wide_charset(faces, max_classes=0)

Ranges: kana, CJK Unified Ideographs (U+4E00-9FFF) and Extension A (U+3400-4DBF). A character
qualifies when at least one of `faces` (training faces only) draws it with real outlines (not
an empty cmap entry) and it has an IDS entry (its decomposition is its class text). Reserved JIS
level-2 kanji are never in it (DESIGN §4). Order: the `jis2-zs` seen classes first (the shipped
model's known vocabulary, so a cap keeps them), then the others by how many faces draw them
(common characters first), then by code point. `--max-classes` caps the list in that order.
"""

from __future__ import annotations

from collections.abc import Sequence

RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))  # CJK Unified Ideographs, Extension A


def wide_candidates() -> list[str]:
    """Every code point of the wide ranges, kana first."""
    from hieralign.knowledge.charsets import charset

    return charset("kana") + [chr(cp) for lo, hi in RANGES for cp in range(lo, hi + 1)]


def wide_charset(faces: Sequence, max_classes: int = 0) -> list[str]:
    """Training characters drawn by `faces` (see the module docstring); never a reserved one."""
    from hieralign.data.fonts import ROLE_TRAIN, outlined_chars
    from hieralign.knowledge.charsets import charset
    from hieralign.knowledge.ids import IDSDatabase
    from hieralign.knowledge.protocols import reserved
    from hieralign.utils.progress import progress

    bad = [f.name for f in faces if f.role != ROLE_TRAIN]
    if bad:
        raise ValueError(f"the wide vocabulary is drawn by training families only, not {', '.join(bad)}")
    counts: dict[str, int] = {}
    for face in progress(list(faces), desc="wide vocabulary: outline coverage", unit="face"):
        for ch in outlined_chars(face):
            counts[ch] = counts.get(ch, 0) + 1
    ids, banned = IDSDatabase.load(), set(reserved())
    pool = [c for c in wide_candidates() if counts.get(c) and c not in banned and (ids.has_entry(c) or _is_kana(c))]
    known = set(charset("jis2-zs"))
    first = {c: i for i, c in enumerate(charset("jis2-zs"))}
    pool.sort(key=lambda c: (0, first[c], 0) if c in known else (1, -counts[c], ord(c)))
    return pool[:max_classes] if max_classes > 0 else pool


def _is_kana(ch: str) -> bool:
    return 0x3040 <= ord(ch) <= 0x30FF
