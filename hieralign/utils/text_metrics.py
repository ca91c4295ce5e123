"""Character and word error rates (edit distance by rapidfuzz), and the syllable tokens WER uses."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from hieralign.knowledge.tibetan import syllables


def words(text: str) -> list[str]:
    """Tibetan syllables (tsheg-delimited) when the text has a tsheg, else whitespace words."""
    return syllables(text) if "\u0f0b" in text else text.split()


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """Corpus CER and WER: total edits / total reference length (characters, words)."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    char_edits = sum(Levenshtein.distance(r, h) for r, h in zip(references, hypotheses))
    word_edits = sum(Levenshtein.distance(words(r), words(h)) for r, h in zip(references, hypotheses))
    chars = sum(len(r) for r in references)
    n_words = sum(len(words(r)) for r in references)
    return {"cer": char_edits / max(chars, 1), "wer": word_edits / max(n_words, 1),
            "exact": sum(r == h for r, h in zip(references, hypotheses)) / max(len(references), 1)}
