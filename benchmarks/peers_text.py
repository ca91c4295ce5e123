"""Edit distance and character error rate for scoring peer OCR output.

Distances count Unicode code points (after optional NFC + whitespace collapsing), which is
what CER means for Tibetan and CJK: a Tibetan stack such as སྐྱ is three code points, and a
wrong subjoined letter costs one edit, not a whole "character".

Complexity. `edit_distance(a, b)` is the textbook O(len(a)·len(b)) dynamic programme in pure
Python (fine for a few thousand pairs). For retrieval by OCR-then-match (1k queries × 1k
lines) use `edit_distances(query, candidates)` / `edit_distance_matrix(queries, candidates)`:
they run the same programme for *all* candidates at once with numpy, one vectorised row per
query code point (the in-row insertion chain is a running minimum, `np.minimum.accumulate`),
so the cost is O(len(query)) numpy passes over a (max_len, N) int16 array: ~30 ms per
60-code-point query against 1k lines of 60 code points on this (shared) CPU, i.e. ~30 s for
a full 1k × 1k matrix on one core (docs/PEERS.md has the measurement). With PyPI `rapidfuzz`
installed (bench extra) `edit_distance_matrix` hands the work to its C++ `cdist` instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_SPACES = re.compile(r"\s+")


def normalize_text(text: str, drop_spaces: bool = False) -> str:
    """NFC, whitespace runs collapsed to one space and stripped (DESIGN §4); `drop_spaces`
    removes them entirely (Tesseract inserts spaces between Tibetan syllables at will)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text.replace(" ", "") if drop_spaces else text


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: cost 1 each) between code points."""
    if len(a) < len(b):
        a, b = b, a  # keep the row (len(b) + 1) short
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


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


def _codepoint_matrix(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(max_len, N) int32 code points padded with -1 (transposed: the running minimum below
    then walks contiguous rows), and the (N,) lengths."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    codes = np.full((len(texts), max(1, int(lengths.max(initial=0)))), -1, dtype=np.int32)
    for row, text in enumerate(texts):
        codes[row, : len(text)] = [ord(c) for c in text]
    return np.ascontiguousarray(codes.T), lengths


def _distances_to_coded(query: str, codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Row-by-row Levenshtein of `query` against every column of `codes` at once."""
    width, n = codes.shape
    dtype = np.int16 if max(width, len(query)) < 30_000 else np.int32  # half the memory traffic
    columns = np.arange(width + 1, dtype=dtype)[:, None]
    row = np.repeat(columns, n, axis=1)  # distance from "" to each candidate prefix
    best = np.empty_like(row)
    substitute = np.empty((width, n), dtype=dtype)
    mismatch: dict[str, np.ndarray] = {}  # one mask per distinct query code point
    for i, char in enumerate(query, start=1):
        if char not in mismatch:
            mismatch[char] = (codes != ord(char)).astype(dtype)
        np.add(row[:-1], mismatch[char], out=substitute)
        np.add(row[1:], 1, out=best[1:])  # delete
        np.minimum(best[1:], substitute, out=best[1:])
        best[0] = i
        # insertions: row[j] = min_k<=j (best[k] + j - k) = j + running-min(best[k] - k)
        best -= columns
        np.minimum.accumulate(best, axis=0, out=row)
        row += columns
    return row[lengths, np.arange(n)].astype(np.int32)


def edit_distances(query: str, candidates: Sequence[str]) -> np.ndarray:
    """(N,) int32 edit distances from `query` to every candidate, vectorised over candidates."""
    if not candidates:
        return np.zeros(0, dtype=np.int32)
    codes, lengths = _codepoint_matrix(candidates)
    return _distances_to_coded(query, codes, lengths)


def edit_distance_matrix(queries: Sequence[str], candidates: Sequence[str], normalized: bool = False,
                         backend: str = "auto") -> np.ndarray:
    """(Q, N) edit distances; `normalized` divides by max(len(query), len(candidate), 1), a
    length-fair score for ranking lines of different lengths (0 = identical, 1 = disjoint).

    `backend`: "numpy" (always here), "rapidfuzz" (C++, PyPI `rapidfuzz` from the bench extra,
    ~60x faster here, same numbers), "auto" = rapidfuzz when importable."""
    if backend not in ("auto", "numpy", "rapidfuzz"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'rapidfuzz', not {backend!r}")
    if backend != "numpy" and candidates and queries:
        try:
            from rapidfuzz.distance import Levenshtein
            from rapidfuzz.process import cdist
        except ImportError:
            if backend == "rapidfuzz":
                raise
        else:
            scorer = Levenshtein.normalized_distance if normalized else Levenshtein.distance
            return cdist(list(queries), list(candidates), scorer=scorer,
                         dtype=np.float32 if normalized else np.int32, workers=1)
    out = np.zeros((len(queries), len(candidates)), dtype=np.float32 if normalized else np.int32)
    if not candidates:
        return out
    codes, lengths = _codepoint_matrix(candidates)
    for q, query in enumerate(queries):
        dist = _distances_to_coded(query, codes, lengths)
        out[q] = dist / np.maximum(np.maximum(lengths, len(query)), 1) if normalized else dist
    return out
