"""Zero-shot evaluation protocols (DESIGN.md §4), so every number means the same thing.

- ``etl9g-zs``: classes = ETL9G's 3,036 (71 hiragana + 2,965 JIS level-1 kanji, JIS order).
  Unseen = the last 1,000 kanji; seen = the first *m* classes, m ∈ {500, 1000, 1500, 2036}.
- ``gb-zs``: classes = GB2312 level 1 (3,755, GB order). Unseen = the last 1,000; seen = the
  first *m*, m ∈ {500, 1000, 1500, 2000, 2755} (the HWDB protocol of the literature).
- ``jis2-zs``: the shipped model's protocol: seen = every kana, ETL9G and GB2312 character
  that is not JIS level 2; unseen = the reserved JIS level-2 kanji.
- ``jis2-zs-wide``: the same unseen set, open seen vocabulary: seen = every class of the
  training store that is not reserved (`data build --charset wide`: every character the
  installed training families draw among CJK Unified Ideographs + Extension A + kana).
- Reserved: JIS X 0208 level-2 kanji are never used as training images of a reported or
  shipped model (``reserved()``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hieralign.knowledge.charsets import charset


@dataclass(frozen=True)
class Protocol:
    name: str  # protocol id used on the command line
    charset: str  # named charset whose order defines the classes
    region: str  # IDS region for decompositions: "J" (Japanese) or "G" (Chinese)
    n_unseen: int  # the last n_unseen classes are the unseen (zero-shot test) classes
    seen_sizes: tuple[int, ...]  # allowed m: seen = the first m classes
    description: str  # one line for help texts and reports
    open_seen: bool = False  # seen = the training data's own classes minus the unseen/reserved ones


PROTOCOLS: dict[str, Protocol] = {
    "etl9g-zs": Protocol(
        "etl9g-zs", "etl9g", "J", 1000, (500, 1000, 1500, 2036),
        "ETL9G 3,036 classes (71 hiragana + JIS level-1 kanji); unseen = last 1,000 kanji in JIS order",
    ),
    "gb-zs": Protocol(
        "gb-zs", "gb2312", "G", 1000, (500, 1000, 1500, 2000, 2755),
        "GB2312 level 1 (3,755 classes); unseen = last 1,000 in GB order (HWDB protocol)",
    ),
}


def _register_jis2_zs() -> None:
    # The shipped default model's protocol: train on everything the registries draw except the
    # reserved JIS level-2 kanji, which are its zero-shot test set.
    n_seen = len(charset("jis2-zs")) - len(charset("jis2"))
    PROTOCOLS["jis2-zs"] = Protocol(
        "jis2-zs", "jis2-zs", "J", len(charset("jis2")), (n_seen,),
        "kana + ETL9G + GB2312 minus JIS level 2 (seen); unseen = the 3,390 reserved JIS level-2 kanji",
    )


_register_jis2_zs()
PROTOCOLS["jis2-zs-wide"] = Protocol(
    "jis2-zs-wide", "jis2", "J", len(charset("jis2")), (), "every non-reserved class of the training store "
    "(data build --charset wide: CJK Unified + Ext A + kana drawn by the training families); unseen = JIS level 2",
    open_seen=True)

# Which IDS alternative each named charset uses (DEVELOPING.md "Regions").
_REGIONS = {"gb2312": "G", "hiragana": "J", "katakana": "J", "kana": "J", "etl9g": "J",
            "jis1": "J", "jis2": "J", "joyo": "J", "jis2-zs": "J"}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None


def split(name: str, seen: int | None = None, available: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Return (seen_chars, unseen_chars) for a protocol; `seen` defaults to the largest m.
    An open-vocabulary protocol takes its seen classes from `available` (a store's classes)."""
    proto = get_protocol(name)
    if proto.open_seen:
        return _open_split(proto, available, seen)
    classes = charset(proto.charset)
    m = max(proto.seen_sizes) if seen is None else int(seen)
    if m not in proto.seen_sizes:
        raise ValueError(f"protocol {proto.name}: seen={m} is not one of {list(proto.seen_sizes)}")
    unseen = classes[-proto.n_unseen:]
    seen_chars = classes[:m]
    assert not set(seen_chars) & set(unseen), "seen and unseen overlap: charset order changed?"
    return seen_chars, unseen


def _open_split(proto: Protocol, available: list[str] | None, seen: int | None) -> tuple[list[str], list[str]]:
    unseen = charset(proto.charset)[-proto.n_unseen:]
    if available is None:  # evaluation asks for the unseen classes only; the seen ones live in the checkpoint
        return [], unseen
    banned = set(unseen) | set(reserved())
    seen_chars = [c for c in dict.fromkeys(available) if c not in banned]
    if seen is not None and seen != len(seen_chars) and available:
        raise ValueError(f"protocol {proto.name}: the store gives {len(seen_chars)} seen classes, not {seen}")
    return seen_chars, unseen


def validation_split(seen_chars: list[str], n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Hold out `n` seen classes as class-disjoint validation: returns (train_chars, val_chars).

    The draw is deterministic for (seen_chars, n, seed); both lists keep the input order.
    """
    if not 0 <= n < len(seen_chars):
        raise ValueError(f"validation size n={n} must be in [0, {len(seen_chars)})")
    picked = set(random.Random(seed).sample(range(len(seen_chars)), n))
    train = [c for i, c in enumerate(seen_chars) if i not in picked]
    val = [c for i, c in enumerate(seen_chars) if i in picked]
    return train, val


def reserved() -> list[str]:
    """Characters whose images never train a reported/shipped model (JIS X 0208 level 2)."""
    return charset("jis2")


def region_for(charset_name: str) -> str:
    """IDS region for a named charset: "G" for Chinese sets, "J" otherwise."""
    return _REGIONS.get(charset_name.strip().lower(), "J")
