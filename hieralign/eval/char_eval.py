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
import torch

from hieralign.utils.progress import progress


@dataclass
class Predictions:
    indices: np.ndarray  # store indices evaluated
    truth: np.ndarray  # candidate index of the true class per image
    topk: np.ndarray  # (N, k) candidate indices, best first
    scores: np.ndarray  # (N, k) cosine scores


def predict(recognizer, store, indices: np.ndarray, candidates: list[str], top_k: int = 5,
            batch_size: int = 512) -> Predictions:
    cand = recognizer.encode_candidates(candidates)
    pos = {c: i for i, c in enumerate(candidates)}
    truth = np.array([pos[store.charset[int(store.labels[i])]] for i in indices], np.int64)
    tops, scores = [], []
    for start in progress(range(0, len(indices), batch_size), desc="evaluating"):
        idx = indices[start:start + batch_size]
        images = torch.from_numpy(np.asarray(store.images[idx])).float().div_(255.0)[:, None]
        s, t = (recognizer.encode_images(images) @ cand.t()).topk(min(top_k, len(candidates)), dim=1)
        tops.append(t.cpu().numpy())
        scores.append(s.cpu().numpy())
    k = min(top_k, len(candidates))
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
