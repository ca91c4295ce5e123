"""Zero-shot / closed-set evaluation of a `CharRecognizer` on a glyph store.

Top-1/top-5 overall and per style, per source (font face or synth) and per character; the most
frequent confusions with their decompositions. Store images are already normalised (the same
`normalize_glyph` framing the recogniser applies to user images), so they are fed as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from hieralign.utils.progress import progress


@dataclass
class Predictions:
    indices: np.ndarray  # store indices evaluated
    truth: np.ndarray  # candidate index of the true class per image
    topk: np.ndarray  # (N, k) candidate indices, best first
    scores: np.ndarray  # (N, k) cosine scores


def predict(recognizer, store, indices: np.ndarray, candidates: list[str], top_k: int = 5,
            batch_size: int = 512, descriptors: str = "decomposition", glyph_weight: float | None = None
            ) -> Predictions:
    """Top-k over `candidates` with the recogniser's own scoring (the shared zero-shot core)."""
    from hieralign.models.char.zeroshot import top_k as best_k

    matrix = recognizer.candidate_matrix(list(candidates), descriptors)
    pos = {c: i for i, c in enumerate(matrix.chars)}
    truth = np.array([pos.get(store.charset[int(store.labels[i])], -1) for i in indices], np.int64)
    tops, scores = [], []
    for start in progress(range(0, len(indices), batch_size), desc="evaluating"):
        images = np.asarray(store.images[indices[start:start + batch_size]], np.float32)[:, None] / 255.0
        fused, _, _ = recognizer.scores(recognizer.encoder.encode_images(images), matrix, descriptors, glyph_weight)
        t = best_k(fused, top_k)
        tops.append(t)
        scores.append(np.take_along_axis(fused, t, axis=1))
    k = min(top_k, len(matrix.chars))
    return Predictions(indices, truth, np.concatenate(tops) if tops else np.zeros((0, k), np.int64),
                       np.concatenate(scores) if scores else np.zeros((0, k), np.float32))


def _acc(hit1: np.ndarray, hitk: np.ndarray) -> dict[str, Any]:
    n = len(hit1)
    return {"n": int(n), "top1": float(hit1.mean()) if n else None, "top5": float(hitk.mean()) if n else None}


def summarise(pred: Predictions, store, candidates: list[str], max_confusions: int = 24) -> dict[str, Any]:
    hit1 = pred.topk[:, 0] == pred.truth
    hitk = (pred.topk == pred.truth[:, None]).any(axis=1)
    styles = np.asarray(store.styles)[pred.indices]
    sources = np.asarray(store.sources)[pred.indices]
    report: dict[str, Any] = {"overall": _acc(hit1, hitk), "by_style": {}, "by_source": {}}
    for sid in np.unique(styles):
        m = styles == sid
        report["by_style"][store.style_names[sid]] = _acc(hit1[m], hitk[m])
    for sid in np.unique(sources):
        m = sources == sid
        report["by_source"][store.source_names[sid]] = _acc(hit1[m], hitk[m])
    per_class: dict[int, list[bool]] = defaultdict(list)
    for t, h in zip(pred.truth.tolist(), hit1.tolist()):
        per_class[t].append(h)
    class_acc = sorted((float(np.mean(v)), candidates[t]) for t, v in per_class.items())
    report["worst_classes"] = [{"char": c, "top1": a} for a, c in class_acc[:20]]
    pairs = Counter((int(t), int(p)) for t, p, h in zip(pred.truth, pred.topk[:, 0], hit1) if not h)
    report["confusions"] = [{"true": candidates[t], "predicted": candidates[p], "count": n}
                            for (t, p), n in pairs.most_common(max_confusions)]
    return report


def example_for_pair(pred: Predictions, candidates: list[str], true_char: str, predicted: str) -> int | None:
    """Store index of one image of `true_char` predicted as `predicted`."""
    t, p = candidates.index(true_char), candidates.index(predicted)
    hit = np.flatnonzero((pred.truth == t) & (pred.topk[:, 0] == p))
    return int(pred.indices[hit[0]]) if len(hit) else None
