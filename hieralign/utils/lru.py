"""A byte-bounded LRU mapping for cached arrays (candidate embedding matrices).

A recogniser caches one (N, D) matrix per distinct candidate list. Behind a server, every client
can send a new list, so an unbounded dict grows until the process dies (400 distinct 3,000-
character lists: +1.2 GB). This mapping keeps the most recently used entries whose sizes sum to at
most `max_bytes` and drops the oldest; it is a drop-in for the `dict` the recognisers use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Any


def nbytes(value: Any) -> int:
    """Bytes held by a numpy array or torch tensor (0 for anything without a size)."""
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if hasattr(value, "element_size") and hasattr(value, "nelement"):
        return int(value.element_size() * value.nelement())
    return 0


class ByteLRU(MutableMapping):
    """Mapping whose values' total `nbytes` stays <= `max_bytes` (least recently used dropped first).

    A single value larger than the budget evicts everything else and is kept alone (the
    recognisers store a matrix and read it straight back), so the total is at most
    max(max_bytes, the largest single value). Thread-safe: a server calls recognisers from a
    threadpool.
    """

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.total = 0  # bytes currently held
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            value = self._data[key]
            self._data.move_to_end(key)
            return value

    def __setitem__(self, key: Any, value: Any) -> None:
        size = nbytes(value)
        with self._lock:
            if key in self._data:
                self.total -= nbytes(self._data.pop(key))
            self._data[key] = value
            self.total += size
            while self.total > self.max_bytes and len(self._data) > 1:
                _, old = self._data.popitem(last=False)
                self.total -= nbytes(old)

    def __delitem__(self, key: Any) -> None:
        with self._lock:
            self.total -= nbytes(self._data.pop(key))

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __iter__(self) -> Iterator[Any]:
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
