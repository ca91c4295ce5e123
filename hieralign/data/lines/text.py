"""Text for synthetic lines: bospell words and syllable sequences (training), gettext catalogs
(evaluation only).

DESIGN §4 reserves the text of gettext catalogs (`.mo` files, e.g. the Dzongkha locale data
Debian ships) for evaluation: `mo_text_sampler` marks its sampler `reserved=True`, and
`check_training_text` refuses such a sampler for any training split.
"""

from __future__ import annotations

import gettext
import glob
import os
import random
from collections import Counter
from pathlib import Path

import numpy as np

from hieralign.knowledge.tibetan import SHAD, TSHEG, bospell_syllables, is_tibetan, syllables
from hieralign.knowledge.tibetan import bospell_words as _bospell_word_counts

MO_GLOBS = ("/usr/share/locale/dz/LC_MESSAGES/*.mo", "/usr/share/locale/bo/LC_MESSAGES/*.mo",
            "/usr/share/locale-langpack/dz/LC_MESSAGES/*.mo")


class WordSampler:
    """Draws words by (smoothed) corpus frequency and joins them into lines.

    With `syllables`, a fraction `syllable_fraction` of lines are random syllable sequences
    instead of word sequences: they teach the recogniser syllables in contexts no dictionary
    word puts them in. `reserved=True` marks evaluation-only text."""

    def __init__(self, words: list[str], counts: list[float], separator: str = TSHEG, end_mark: str = SHAD,
                 syllables: tuple[list[str], list[float]] | None = None, syllable_fraction: float = 0.0,
                 reserved: bool = False, name: str = "words"):
        if not words:
            raise ValueError("no words to build lines from")
        self.words, self.cumulative = words, _cumulative(counts)
        self.syllables = syllables[0] if syllables else []
        self.syllable_cumulative = _cumulative(syllables[1]) if syllables else None
        self.syllable_fraction = syllable_fraction if syllables else 0.0
        self.separator, self.end_mark = separator, end_mark
        self.reserved, self.name = reserved, name

    def line(self, rng: random.Random, min_words: int, max_words: int) -> str:
        n = rng.randint(min_words, max_words)
        if self.syllable_cumulative is not None and rng.random() < self.syllable_fraction:
            units = self._draw(rng, self.syllables, self.syllable_cumulative, 2 * n)  # ~2 syllables a word
        else:
            units = self._draw(rng, self.words, self.cumulative, n)
        text = self.separator.join(units)
        if self.end_mark and rng.random() < 0.5:
            return text + self.end_mark
        return text + self.separator if self.separator.strip() else text

    @staticmethod
    def _draw(rng: random.Random, items: list[str], cumulative: np.ndarray, n: int) -> list[str]:
        picks = np.searchsorted(cumulative, [rng.random() for _ in range(n)], side="right")
        return [items[min(i, len(items) - 1)] for i in picks]


def _cumulative(counts: list[float] | tuple[float, ...]) -> np.ndarray:
    weights = np.asarray(counts, dtype=np.float64)
    # sqrt-smoothing keeps frequent particles common without drowning the vocabulary.
    weights = np.sqrt(np.maximum(weights, 0)) + 1.0
    return np.cumsum(weights / weights.sum())


def bospell_words(syllable_fraction: float = 0.0) -> WordSampler:
    """The `bospell` general dictionary (32,844 words with frequencies), optionally mixed with
    syllable-sequence lines drawn from its 4,759 syllables."""
    words, counts = _bospell_word_counts()
    syll = bospell_syllables() if syllable_fraction > 0 else None
    return WordSampler(list(words), list(counts), syllables=(list(syll[0]), list(syll[1])) if syll else None,
                       syllable_fraction=syllable_fraction, name="bospell")


def text_file_words(path: str | os.PathLike) -> WordSampler:
    """Any UTF-8 text: whitespace-separated tokens, counted; lines are joined with spaces."""
    counter = Counter(Path(path).read_text(encoding="utf-8").split())
    if not counter:
        raise ValueError(f"{path}: no words found (expected UTF-8 text)")
    words = sorted(counter)
    return WordSampler(words, [counter[w] for w in words], separator=" ", end_mark="", name=str(path))


def find_mo_files(patterns: tuple[str, ...] = MO_GLOBS) -> list[str]:
    """Tibetan-script gettext catalogs installed on this machine (Dzongkha, Tibetan)."""
    return sorted({p for pattern in patterns for p in glob.glob(pattern)})


def mo_messages(paths: list[str]) -> list[str]:
    """Translated Tibetan-script messages of the catalogs, deduplicated, in a stable order."""
    out: set[str] = set()
    for path in paths:
        with open(path, "rb") as fh:
            catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]  # msgid -> msgstr; no public accessor
        for value in catalog.values():
            for part in str(value).splitlines():
                part = part.strip()
                if is_tibetan(part) and syllables(part):
                    out.add(part)
    return sorted(out)


def mo_text_sampler(paths: list[str] | None = None) -> WordSampler:
    """Evaluation-only sampler over the syllables of gettext catalogs (reserved=True)."""
    paths = find_mo_files() if paths is None else paths
    messages = mo_messages(paths)
    if not messages:
        raise FileNotFoundError("no Tibetan-script gettext catalogs (.mo) found for evaluation text")
    # keep pure Tibetan-block syllables: catalogs mix in format codes and Latin names
    counter = Counter(s for m in messages for s in syllables(m) if all(0x0F00 <= ord(c) < 0x1000 for c in s))
    units = sorted(counter)
    return WordSampler(units, [counter[u] for u in units], reserved=True, name="gettext-mo")


def check_training_text(sampler: WordSampler, split: str) -> None:
    """Raise ValueError if evaluation-only text would enter a training split (DESIGN §4)."""
    if sampler.reserved and split != "test":
        raise ValueError(f"{sampler.name} text is reserved for evaluation (DESIGN §4): "
                         f"it cannot be rendered into the {split!r} split")
