"""Edit distance and character error rate for scoring peer OCR output.

Distances count Unicode code points (after optional NFC + whitespace collapsing), which is
what CER means for Tibetan and CJK: a Tibetan stack such as སྐྱ is three code points, and a
wrong subjoined letter costs one edit, not a whole "character".

Edit distances are rapidfuzz's (a core dependency of hieralign): its C++ Levenshtein for one
pair, its `cdist` for OCR-then-match retrieval (1k queries × 1k lines in well under a second).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

_SPACES = re.compile(r"\s+")


def normalize_text(text: str, drop_spaces: bool = False) -> str:
    """NFC, whitespace runs collapsed to one space and stripped (DESIGN §4); `drop_spaces`
    removes them entirely (Tesseract inserts spaces between Tibetan syllables at will)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text.replace(" ", "") if drop_spaces else text


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: cost 1 each) between code points."""
    return int(Levenshtein.distance(a, b))


def cer(ref: str, hyp: str, normalize: bool = True, drop_spaces: bool = False) -> float:
    """Character error rate: edit_distance(ref, hyp) / len(ref) (1.0 per extra char when ref
    is empty and hyp is not, 0.0 when both are empty). Can exceed 1 for long hypotheses."""
    if normalize:
        ref, hyp = normalize_text(ref, drop_spaces), normalize_text(hyp, drop_spaces)
    if not ref:
        return float(len(hyp))
    return edit_distance(ref, hyp) / len(ref)


def corpus_cer(refs: Sequence[str], hyps: Sequence[str], normalize: bool = True,
               drop_spaces: bool = False) -> float:
    """Total edits / total reference code points over a corpus (long lines weigh more)."""
    if len(refs) != len(hyps):
        raise ValueError(f"corpus_cer: {len(refs)} references but {len(hyps)} hypotheses")
    if normalize:
        refs = [normalize_text(r, drop_spaces) for r in refs]
        hyps = [normalize_text(h, drop_spaces) for h in hyps]
    total = sum(len(r) for r in refs)
    edits = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    return edits / total if total else float(edits)


def edit_distances(query: str, candidates: Sequence[str]) -> np.ndarray:
    """(N,) int32 edit distances from `query` to every candidate."""
    return edit_distance_matrix([query], candidates)[0]


def edit_distance_matrix(queries: Sequence[str], candidates: Sequence[str], normalized: bool = False) -> np.ndarray:
    """(Q, N) edit distances; `normalized` divides by max(len(query), len(candidate), 1), a
    length-fair score for ranking lines of different lengths (0 = identical, 1 = disjoint)."""
    dtype = np.float32 if normalized else np.int32
    if not queries or not candidates:
        return np.zeros((len(queries), len(candidates)), dtype=dtype)
    scorer = Levenshtein.normalized_distance if normalized else Levenshtein.distance
    return cdist(list(queries), list(candidates), scorer=scorer, dtype=dtype, workers=1)
