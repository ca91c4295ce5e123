"""Micro-batching: concurrent recognise requests become one model call.

A CPU forward pass of 16 glyphs costs far less than 16 passes of one, so when requests arrive
together the server waits at most `max_wait_ms` for more with the same candidates, runs them as
one batch in the threadpool at the largest top_k asked and hands every request its own rows,
cut to its own top_k (rows are sorted best first, so a shorter list is a prefix).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Key = Any  # the candidates as a hashable value (a name, None or a tuple of characters)
Entry = tuple[list, int, "asyncio.Future"]  # (images, top_k, where the rows go)


class MicroBatcher:
    def __init__(self, run: Callable[[list, Any, int], Awaitable[list]], max_batch: int = 32,
                 max_wait_ms: float = 4.0):
        self.run = run  # async (images, candidates, top_k) -> one result list per image
        self.max_batch = max_batch  # images per model call
        self.max_wait = max_wait_ms / 1000.0  # how long the first request of a batch waits for company
        self._pending: dict[Key, list[Entry]] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    async def submit(self, images: list, candidates: Any, top_k: int) -> list:
        """Results for `images`, computed together with whatever else arrives within the wait."""
        if len(images) >= self.max_batch:  # already a batch: no reason to wait
            return await self.run(images, candidates, top_k)
        key: Key = tuple(candidates) if isinstance(candidates, list) else candidates
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        queue = self._pending.setdefault(key, [])
        queue.append((images, top_k, future))
        if sum(len(imgs) for imgs, _, _ in queue) >= self.max_batch:
            self._flush(key)
        elif key not in self._timers:
            self._timers[key] = asyncio.get_running_loop().call_later(self.max_wait, self._flush, key)
        return await future

    def _flush(self, key: Key) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        batch = self._pending.pop(key, [])
        if batch:
            asyncio.ensure_future(self._execute(key, batch))

    async def _execute(self, key: Key, batch: list[Entry]) -> None:
        candidates = list(key) if isinstance(key, tuple) else key
        images = [img for imgs, _, _ in batch for img in imgs]
        try:
            results = await self.run(images, candidates, max(k for _, k, _ in batch))
        except Exception as exc:  # every request of the batch shares the inputs that failed
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for imgs, k, future in batch:
            if not future.done():
                future.set_result([row[:k] for row in results[start:start + len(imgs)]])
            start += len(imgs)
