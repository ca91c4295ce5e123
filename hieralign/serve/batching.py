"""Micro-batching: concurrent recognise requests become one model call.

A CPU forward pass of 16 glyphs costs far less than 16 passes of one, so when requests arrive
together the server waits at most `max_wait_ms` for more with the same candidates, runs them as
one batch in the threadpool at the largest top_k asked and hands every request its own rows,
cut to its own top_k (rows are sorted best first, so a shorter list is a prefix). Requests merge
only when their candidates and options (e.g. the descriptors) are equal. When a merged call fails
(one request's image has no ink), each request of it is run again on its own, so the error goes
to the request that caused it and the others still get their rows.
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
        self.run = run  # async (images, candidates, top_k, *options) -> one result list per image
        self.max_batch = max_batch  # images per model call
        self.max_wait = max_wait_ms / 1000.0  # how long the first request of a batch waits for company
        self._pending: dict[Key, list[Entry]] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    async def submit(self, images: list, candidates: Any, top_k: int, *options: Any) -> list:
        """Results for `images`, computed together with whatever else arrives within the wait."""
        if len(images) >= self.max_batch:  # already a batch: no reason to wait
            return await self.run(images, candidates, top_k, *options)
        key: Key = (tuple(candidates) if isinstance(candidates, list) else candidates, options)
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
        cands, options = key
        candidates = list(cands) if isinstance(cands, tuple) else cands
        images = [img for imgs, _, _ in batch for img in imgs]
        try:
            results = await self.run(images, candidates, max(k for _, k, _ in batch), *options)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][2].done():
                    batch[0][2].set_exception(exc)
                return
            await asyncio.gather(*(self._alone(imgs, candidates, k, options, fut) for imgs, k, fut in batch))
            return
        start = 0
        for imgs, k, future in batch:
            if not future.done():
                future.set_result([row[:k] for row in results[start:start + len(imgs)]])
            start += len(imgs)

    async def _alone(self, images: list, candidates: Any, top_k: int, options: tuple, future: asyncio.Future) -> None:
        """One request of a failed merged call, run by itself: its own rows, or its own error."""
        try:
            rows = await self.run(images, candidates, top_k, *options)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(rows)
