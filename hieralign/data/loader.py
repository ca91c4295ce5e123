"""Feeding a `GlyphStore` to torch: a map-style Dataset and a fast batch iterator.

The batch iterator gathers a whole batch from the memory map with one fancy-indexing call
(indices sorted within the batch for locality), so there is no per-sample Python work on the
hot path; augmentation then runs on the batch in torch (`hieralign.data.augment`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from queue import Queue

import numpy as np
import torch
from torch.utils.data import Dataset

from hieralign.data.store import GlyphStore


class GlyphDataset(Dataset):
    """`dataset[i] -> (uint8 tensor (1,H,W), int label)` over a subset of a store."""

    def __init__(self, store: GlyphStore, indices: Sequence[int] | np.ndarray | None = None):
        self.store = store
        self.indices = np.arange(len(store)) if indices is None else np.asarray(indices, np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        j = int(self.indices[i])
        return torch.from_numpy(np.array(self.store.images[j]))[None], int(self.store.labels[j])


class GlyphBatches:
    """Iterate (uint8 tensor (B,1,H,W), int64 labels (B,)) over `indices` of a store.

    Shuffled per epoch with `seed + epoch` (call `set_epoch`), so a resumed run sees the same
    order. `prefetch` > 0 gathers the next batches in a background thread (numpy releases the
    GIL while copying)."""

    def __init__(self, store: GlyphStore, indices: Sequence[int] | np.ndarray | None = None, batch_size: int = 256,
                 shuffle: bool = True, drop_last: bool = False, seed: int = 0, prefetch: int = 2,
                 label_map: np.ndarray | None = None):
        self.store = store
        self.indices = np.arange(len(store)) if indices is None else np.asarray(indices, np.int64)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.epoch, self.prefetch = seed, 0, prefetch
        # optional remap of store labels (e.g. store charset index -> training class index)
        self.label_map = None if label_map is None else np.asarray(label_map, np.int64)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.indices)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        if not self.shuffle:
            return self.indices
        rng = np.random.default_rng([self.seed, self.epoch])
        return self.indices[rng.permutation(len(self.indices))]

    def _gather(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = np.sort(idx)
        images = torch.from_numpy(self.store.images[idx])[:, None]
        labels = np.asarray(self.store.labels[idx], np.int64)
        if self.label_map is not None:
            labels = self.label_map[labels]
        return images, torch.from_numpy(labels)

    def _batches(self) -> Iterator[np.ndarray]:
        order = self._order()
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            yield order[start:start + self.batch_size]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.prefetch <= 0:
            for idx in self._batches():
                yield self._gather(idx)
            return
        yield from self._prefetched()

    def _prefetched(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        queue: Queue = Queue(maxsize=self.prefetch)
        done = object()
        stop = threading.Event()

        def work() -> None:
            try:
                for idx in self._batches():
                    if stop.is_set():
                        return
                    queue.put(self._gather(idx))
            except BaseException as exc:  # re-raised in the consumer thread
                queue.put(exc)
            queue.put(done)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            while (item := queue.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting on a full queue
                while not queue.empty():
                    queue.get_nowait()
                thread.join(timeout=0.05)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ink batch -> float32 in [0, 1] (the models' input convention)."""
    return images.to(torch.float32).div_(255.0)
