"""Hybrid text->line retrieval: a transcription index (character n-grams, then edit distance)
as the fast first stage, reranked by the exact CTC log-likelihood of the query under each
candidate line.

Each line is transcribed once at index time. Next to its transcript the index keeps the line's
CTC output pruned to the top-`keep` units per frame (fp16 log-probs + uint8 unit ids, memory
mapped), so the rerank reads K small arrays instead of running the recogniser again: at the
default K=10 recomputing costs a forward pass over 10 full line images (~0.3 s on 2 CPU cores),
reading the pruned outputs and one numpy CTC forward costs milliseconds (docs/LINE_OCR.md).
Units outside a frame's top-`keep` get the frame's floor value (the smallest kept log-prob
minus a margin), which only matters for queries the line does not contain anyway.
Searching needs numpy and rapidfuzz only (the rerank is `index.ctc_numpy`), not torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from hieralign.data.lines.manifest import normalize_text
from hieralign.index.ctc_numpy import ctc_log_likelihood, encode

NGRAM = 3
# The query's rarest n-grams vote, weighted by IDF. 64 weighted votes instead of 16 equal ones: on
# val transcripts corrupted to ~50 % CER the right line reached the 200-line pool 97 % of the time
# instead of 91 % (no change on the real val transcripts, which were already at the ceiling).
MAX_QUERY_NGRAMS = 64
MAX_POSTINGS = 500_000  # votes cast per query at most (rarest n-grams first): bounds the cost at 1M+ lines
# Lines reranked by CTC likelihood: the partial-ratio order puts the right line in its top 10
# whenever it is in the pool (val and the corrupted val alike), and the rerank costs ~3.5 ms a line.
RERANK_DEPTH = 10


def _ngram_hashes(codes: np.ndarray, n: int = NGRAM) -> np.ndarray:
    """Rolling hash of every n-gram of a code-point array (int64; collisions are harmless votes)."""
    n = min(n, len(codes))  # a line shorter than n is one n-gram of its own length
    if n == 0:
        return np.zeros(0, np.int64)
    h = np.zeros(len(codes) - n + 1, dtype=np.int64)
    for j in range(n):
        h = h * 1_000_003 + codes[j: len(codes) - n + 1 + j]
    return h


@dataclass
class TranscriptIndex:
    """Transcripts + an inverted index from n-gram hash to the lines holding it (CSR arrays)."""

    texts: list[str]  # normalised transcript per line
    keys: np.ndarray  # sorted unique n-gram hashes
    starts: np.ndarray  # postings of keys[i] = lines[starts[i]:starts[i+1]]
    lines: np.ndarray  # int32 line ids, grouped by key

    @classmethod
    def build(cls, texts: list[str]) -> TranscriptIndex:
        texts = [normalize_text(t) for t in texts]
        hashes, owners = [], []
        for i, text in enumerate(texts):
            h = np.unique(_ngram_hashes(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)))
            hashes.append(h)
            owners.append(np.full(len(h), i, dtype=np.int32))
        flat = np.concatenate(hashes) if hashes else np.zeros(0, np.int64)
        who = np.concatenate(owners) if owners else np.zeros(0, np.int32)
        order = np.argsort(flat, kind="stable")
        flat, who = flat[order], who[order]
        keys, starts = np.unique(flat, return_index=True)
        return cls(texts, keys, np.append(starts, len(flat)).astype(np.int64), who)

    def candidates(self, query: str, limit: int = 200) -> np.ndarray:
        """Lines sharing the most (rare) n-grams with the query, best first: each of the query's
        `MAX_QUERY_NGRAMS` rarest n-grams votes log(N / df) for every line holding it."""
        q = np.unique(_ngram_hashes(np.frombuffer(normalize_text(query).encode("utf-32-le"), np.uint32).astype(np.int64)))
        if not len(self.keys) or not len(q):
            return np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(self.keys, q)
        pos = pos[(pos < len(self.keys)) & (self.keys[np.minimum(pos, len(self.keys) - 1)] == q)]
        if not len(pos):
            return np.zeros(0, dtype=np.int64)
        df = self.starts[pos + 1] - self.starts[pos]
        keep = np.argsort(df, kind="stable")[:MAX_QUERY_NGRAMS]  # rare n-grams carry the signal
        pos, df = pos[keep], df[keep]
        enough = max(1, int(np.searchsorted(np.cumsum(df), MAX_POSTINGS, side="right")))
        pos, df = pos[:enough], df[:enough]  # the commonest n-grams add little weight and most of the cost
        hits = np.concatenate([self.lines[self.starts[p]: self.starts[p + 1]] for p in pos])
        # one dense vote array: O(lines + hits), where sorting the hits (np.unique) cost 230 ms at 1M lines
        votes = np.bincount(hits, weights=np.repeat(np.log(len(self.texts) / df), df), minlength=len(self.texts))
        voted = np.flatnonzero(votes)
        if len(voted) > limit:
            voted = voted[np.argpartition(-votes[voted], limit - 1)[:limit]]
        return voted[np.argsort(-votes[voted], kind="stable")].astype(np.int64)

    def search(self, query: str, k: int = 50, pool: int = 200) -> list[tuple[int, float]]:
        """(line, similarity 0-100) of the k transcripts closest to the query (n-gram pool, then
        rapidfuzz's partial ratio, so a phrase finds the line that contains it)."""
        pool_ids = self.candidates(query, pool)
        choices = {int(i): self.texts[int(i)] for i in pool_ids}
        found = process.extract(normalize_text(query), choices, scorer=fuzz.partial_ratio, limit=k)
        return [(int(key), float(score)) for _, score, key in found]

    def save(self, folder: str | os.PathLike) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "ngrams.npz", keys=self.keys, starts=self.starts, lines=self.lines)
        (folder / "transcripts.jsonl").write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n"
                                                          for t in self.texts), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike) -> TranscriptIndex:
        folder = Path(folder)
        z = np.load(folder / "ngrams.npz")
        texts = [json.loads(x)["text"] for x in (folder / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()]
        return cls(texts, z["keys"], z["starts"], z["lines"])


class PrunedOutputs:
    """Per-line CTC outputs kept as the top-`keep` units per frame (written once, read by slice)."""

    def __init__(self, ids: np.ndarray, values: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, vocab: int):
        self.ids, self.values, self.offsets, self.lengths, self.vocab = ids, values, offsets, lengths, vocab

    @classmethod
    def from_log_probs(cls, outputs: list[Any], keep: int = 4) -> PrunedOutputs:
        """`outputs` = one (T_i, V) log-prob array (numpy or torch) per line, in line order."""
        arrays = [np.asarray(lp.float().numpy() if hasattr(lp, "numpy") and hasattr(lp, "float") else lp,
                             dtype=np.float32) for lp in outputs]
        vocab = int(arrays[0].shape[-1]) if arrays else 1
        k = min(keep, vocab)
        ids, values = [], []
        for lp in arrays:
            top = np.argsort(-lp, axis=-1, kind="stable")[:, :k]  # best first, like torch.topk
            ids.append(top.astype(np.uint8))
            values.append(np.take_along_axis(lp, top, axis=-1).astype(np.float16))
        lengths = np.asarray([len(x) for x in ids], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(np.concatenate(ids) if ids else np.zeros((0, k), np.uint8),
                   np.concatenate(values) if values else np.zeros((0, k), np.float16), offsets, lengths, vocab)

    @classmethod
    def concat(cls, parts: list[PrunedOutputs]) -> PrunedOutputs:
        """One store of the lines of `parts`, in order (index building works in chunks)."""
        parts = [p for p in parts if len(p.lengths)] or parts[:1]
        lengths = np.concatenate([p.lengths for p in parts])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(np.concatenate([p.ids for p in parts]), np.concatenate([p.values for p in parts]), offsets,
                   lengths, max(p.vocab for p in parts))

    def __len__(self) -> int:
        return len(self.lengths)

    def dense(self, lines: list[int], margin: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
        """(T_max, len(lines), V) float32 log-probs rebuilt from the kept units, and frame lengths."""
        lengths = np.asarray([int(self.lengths[i]) for i in lines], dtype=np.int64)
        out = np.zeros((int(lengths.max(initial=1)), len(lines), self.vocab), dtype=np.float32)
        for b, i in enumerate(lines):
            s, n = int(self.offsets[i]), int(self.lengths[i])
            vals = self.values[s:s + n].astype(np.float32)
            frame = np.repeat(vals[:, -1:] - margin, self.vocab, axis=1)
            np.put_along_axis(frame, self.ids[s:s + n].astype(np.int64), vals, axis=1)
            out[:n, b] = frame
        peak = out.max(-1, keepdims=True)  # log_softmax over units
        out = out - (peak + np.log(np.exp(out - peak).sum(-1, keepdims=True)))
        return out, lengths

    def save(self, folder: str | os.PathLike) -> None:
        np.savez(Path(folder) / "ctc_outputs.npz", ids=self.ids, values=self.values, offsets=self.offsets,
                 lengths=self.lengths, vocab=np.asarray(self.vocab))

    @classmethod
    def load(cls, folder: str | os.PathLike) -> PrunedOutputs:
        z = np.load(Path(folder) / "ctc_outputs.npz")
        return cls(z["ids"], z["values"], z["offsets"], z["lengths"], int(z["vocab"]))


class HybridSearcher:
    """text -> lines: transcription first stage, CTC-likelihood rerank of the top `rerank`."""

    def __init__(self, index: TranscriptIndex, outputs: PrunedOutputs, charset: Any):
        self.index, self.outputs = index, outputs
        self.units: str = charset if isinstance(charset, str) else charset.units  # a Charset or its units

    def search(self, query: str, k: int = 10, rerank: int = RERANK_DEPTH) -> list[tuple[int, float]]:
        """(line, log P(query | line)) best first; lines outside the first stage are not returned."""
        first = [i for i, _ in self.index.search(query, rerank)]
        target = encode(query, self.units)
        if not first or not target:
            return [(i, float("-inf")) for i in first[:k]]
        log_probs, lengths = self.outputs.dense(first)
        scores = ctc_log_likelihood(log_probs, lengths, [target] * len(first))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(first[int(j)], float(scores[j])) for j in order]


def transcribe_chunk(model, arrays: list[np.ndarray], keep: int = 4, max_batch: int = 32
                     ) -> tuple[list[str], list[float], PrunedOutputs]:
    """Greedy transcripts, their scores and the pruned CTC outputs of height-normalised lines."""
    from hieralign.models.line.ctc_decode import greedy_decode
    from hieralign.models.line.ctc_infer import iter_outputs

    texts: list[str] = [""] * len(arrays)
    scores: list[float] = [0.0] * len(arrays)
    outputs: list[Any] = [None] * len(arrays)
    for idx, log_probs, lengths in iter_outputs(model.eval(), arrays, max_batch):
        for b, (i, (text, score)) in enumerate(zip(idx, greedy_decode(log_probs, lengths, model.charset))):
            texts[i], scores[i], outputs[i] = text, score, log_probs[: int(lengths[b]), b].float().numpy()
    return texts, scores, PrunedOutputs.from_log_probs(outputs, keep)


def index_arrays(model, arrays: list[np.ndarray], keep: int = 4, max_batch: int = 32
                 ) -> tuple[list[str], HybridSearcher]:
    """Transcribe (greedy) every height-normalised line once and build the hybrid searcher."""
    texts, _, outputs = transcribe_chunk(model, arrays, keep, max_batch)
    return texts, HybridSearcher(TranscriptIndex.build(texts), outputs, model.charset)
