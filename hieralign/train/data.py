"""Which classes and which images a character model may train and validate on (DESIGN.md §4).

The trainer never trusts a store to be clean: images of unseen-split classes, of reserved
JIS level-2 kanji, and of test-only font families are dropped here and counted in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClassPlan:
    train_chars: list[str]  # seen classes whose images train the model (decompositions = class texts)
    val_chars: list[str]  # seen classes held out for zero-shot validation (their images never train)
    unseen_chars: list[str]  # the protocol's zero-shot test classes (never trained on)
    region: str  # IDS region of the protocol's charset


@dataclass
class ImageSelection:
    train: np.ndarray  # store indices of training images
    val: np.ndarray  # store indices of validation images (val classes only)
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> images excluded


def plan_classes(split: str, seen: int | None, val_classes: int, seed: int,
                 store_chars: list[str] | None = None) -> ClassPlan:
    """Seen/val/unseen classes; an open-vocabulary protocol (jis2-zs-wide) trains on the store's
    own classes minus the reserved ones."""
    from hieralign.knowledge import protocols

    proto = protocols.get_protocol(split)
    seen_chars, unseen = protocols.split(split, seen, store_chars)
    train, val = protocols.validation_split(seen_chars, val_classes, seed) if val_classes else (seen_chars, [])
    return ClassPlan(train, val, unseen, proto.region)


def test_only_sources(source_names: list[str]) -> set[int]:
    """Indices of store sources that are test-only font families (by their family part)."""
    from hieralign.data.fonts import ROLE_TEST_ONLY, family_info

    return {i for i, name in enumerate(source_names) if family_info(name.split("/")[0])[1] == ROLE_TEST_ONLY}


def select_images(store, plan: ClassPlan, limit_samples: int = 0, val_max_images: int = 3000,
                  seed: int = 0) -> ImageSelection:
    """Training and validation indices of `store` under the protocol, with drop counts."""
    from hieralign.knowledge import protocols

    labels = np.asarray(store.labels)
    index = {c: i for i, c in enumerate(store.charset)}
    bad_source = np.isin(np.asarray(store.sources), sorted(test_only_sources(store.source_names)))
    forbidden = set(plan.unseen_chars) | set(protocols.reserved())
    is_forbidden = np.array([c in forbidden for c in store.charset], bool)[labels] if len(labels) else np.zeros(0, bool)
    train_mask = _class_mask(index, plan.train_chars, len(store.charset))[labels]
    val_mask = _class_mask(index, plan.val_chars, len(store.charset))[labels]
    dropped = {
        "unseen_or_reserved_class": int((is_forbidden & ~bad_source).sum()),
        "test_only_font": int(bad_source.sum()),
        "class_not_in_seen_split": int((~train_mask & ~val_mask & ~is_forbidden & ~bad_source).sum()),
    }
    train = np.flatnonzero(train_mask & ~bad_source & ~is_forbidden)
    val = np.flatnonzero(val_mask & ~bad_source & ~is_forbidden)
    rng = np.random.default_rng(seed)
    if limit_samples and len(train) > limit_samples:
        train = np.sort(rng.choice(train, limit_samples, replace=False))
    if len(val) > val_max_images:
        val = np.sort(rng.choice(val, val_max_images, replace=False))
    return ImageSelection(train, val, dropped)


def _class_mask(index: dict[str, int], chars: list[str], n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    mask[[index[c] for c in chars if c in index]] = True
    return mask


def class_chunked_order(indices: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Every index once, in shuffled runs of up to `k` images of one class.

    With k images per class in a batch, a batch of B images has ~B/k distinct classes, so the
    Hi-GITA text tower encodes B/k decompositions per step instead of ~B: on a CPU the text
    transformers cost as much as the image tower, and k=2 halves that cost.
    """
    if k <= 1:
        return indices[rng.permutation(len(indices))]
    perm = rng.permutation(len(indices))
    by_class = perm[np.argsort(labels[perm], kind="stable")]  # shuffled within each class
    sorted_labels = labels[by_class]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    rank_in_class = np.arange(len(by_class)) - np.repeat(starts, np.diff(np.r_[starts, len(by_class)]))
    chunk_id = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(by_class)])) * 10**6 + rank_in_class // k
    _, chunk = np.unique(chunk_id, return_inverse=True)
    chunk_order = rng.permutation(chunk.max() + 1)
    position = np.empty_like(chunk_order)
    position[chunk_order] = np.arange(len(chunk_order))
    return indices[by_class[np.lexsort((rank_in_class, position[chunk]))]]
