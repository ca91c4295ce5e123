"""Tibetan words and syllables from the `bospell` dictionary, and syllable splitting.

A Tibetan syllable is delimited by the tsheg (U+0F0B); a clause ends with a shad (U+0F0D).
The bospell general dictionary lists 32,845 words (one or more syllables) with corpus counts;
both the word list and the derived syllable list (counts summed over the words containing
each syllable) feed the line synthesiser, and the syllable set is the decoder's lexicon.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

TSHEG, SHAD = "\u0f0b", "\u0f0d"
TIBETAN_BLOCK = range(0x0F00, 0x1000)
# Anything that separates syllables on a line: tsheg, the non-breaking tsheg, shads, spaces.
_SYLLABLE_BREAK = re.compile(r"[\u0f0b\u0f0c\u0f0d-\u0f14\s]+")


def is_tibetan(text: str) -> bool:
    """True when most letters of `text` are in the Tibetan block (ignores spaces/punctuation)."""
    letters = [c for c in text if not c.isspace()]
    return bool(letters) and sum(ord(c) in TIBETAN_BLOCK for c in letters) / len(letters) > 0.5


def syllables(text: str) -> list[str]:
    """The tsheg-delimited syllables of a line (NFC), without the delimiters."""
    return [s for s in _SYLLABLE_BREAK.split(unicodedata.normalize("NFC", text)) if s]


@lru_cache(maxsize=1)
def bospell_words() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(words, corpus counts) of bospell's general dictionary, NFC, in file order."""
    try:
        import bospell
    except ImportError as exc:
        raise ImportError("pip install bospell (extra [data]) or pass --text-file") from exc
    path = Path(bospell.__file__).parent / "resources" / "dictionaries" / "general.txt"
    words, counts = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.rsplit(" ", 1)
        word = unicodedata.normalize("NFC", parts[0].strip().lstrip("\ufeff")) if len(parts) == 2 else ""
        # a few rows carry a byte-order mark or '#': keep only pure Tibetan-block words
        if word and parts[1].isdigit() and all(ord(c) in TIBETAN_BLOCK for c in word):
            words.append(word)
            counts.append(float(parts[1]))
    return tuple(words), tuple(counts)


@lru_cache(maxsize=1)
def bospell_syllables() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(syllables, summed counts) over the bospell words, most frequent first."""
    counter: Counter[str] = Counter()
    for word, count in zip(*bospell_words()):
        for syllable in syllables(word):
            counter[syllable] += int(count) + 1
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(s for s, _ in ranked), tuple(c for _, c in ranked)


def syllable_lexicon() -> frozenset[str]:
    """Every syllable bospell knows: the decoder's optional lexicon."""
    return frozenset(bospell_syllables()[0])
