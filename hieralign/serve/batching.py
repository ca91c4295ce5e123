"""Micro-batching: concurrent recognise requests become one model call.

A CPU forward pass of 16 glyphs costs far less than 16 passes of one, so when requests arrive
together the server waits at most `max_wait_ms` for more with the same (candidates, top_k),
runs them as one batch in the threadpool and hands every request its own rows back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Key = tuple[Any, int]  # (candidates as a hashable value, top_k)


class MicroBatcher:
    def __init__(self, run: Callable[[list, Any, int], Awaitable[list]], max_batch: int = 32,
                 max_wait_ms: float = 4.0):
        self.run = run  # async (images, candidates, top_k) -> one result list per image
        self.max_batch = max_batch  # images per model call
        self.max_wait = max_wait_ms / 1000.0  # how long the first request of a batch waits for company
        self._pending: dict[Key, list[tuple[list, asyncio.Future]]] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    async def submit(self, images: list, candidates: Any, top_k: int) -> list:
        """Results for `images`, computed together with whatever else arrives within the wait."""
        if len(images) >= self.max_batch:  # already a batch: no reason to wait
            return await self.run(images, candidates, top_k)
        key: Key = (tuple(candidates) if isinstance(candidates, list) else candidates, top_k)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        queue = self._pending.setdefault(key, [])
        queue.append((images, future))
        if sum(len(imgs) for imgs, _ in queue) >= self.max_batch:
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

    async def _execute(self, key: Key, batch: list[tuple[list, asyncio.Future]]) -> None:
        candidates = list(key[0]) if isinstance(key[0], tuple) else key[0]
        images = [img for imgs, _ in batch for img in imgs]
        try:
            results = await self.run(images, candidates, key[1])
        except Exception as exc:  # every request of the batch shares the inputs that failed
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for imgs, future in batch:
            if not future.done():
                future.set_result(results[start:start + len(imgs)])
            start += len(imgs)
