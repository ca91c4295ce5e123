import asyncio

import httpx

from hieralign.serve.batching import MicroBatcher
from hieralign.testing import badinput


def test_concurrent_requests_share_one_call_and_get_their_own_rows():
    calls = []

    async def run(images, candidates, top_k):
        calls.append((len(images), candidates, top_k))
        await asyncio.sleep(0)
        return [[f"{img}:{candidates}:{top_k}"] for img in images]

    async def scenario():
        batcher = MicroBatcher(run, max_batch=8, max_wait_ms=20)
        same = [batcher.submit([f"a{i}", f"b{i}"], "etl9g", 5) for i in range(3)]
        other = batcher.submit(["x"], ["亜", "唖"], 5)  # different candidates: never merged
        big = batcher.submit([f"c{i}" for i in range(8)], "etl9g", 5)  # a full batch runs at once
        return await asyncio.gather(*same, other, big)

    results = asyncio.run(scenario())
    assert results[0] == [["a0:etl9g:5"], ["b0:etl9g:5"]] and results[2] == [["a2:etl9g:5"], ["b2:etl9g:5"]]
    assert results[3] == [["x:['亜', '唖']:5"]] and len(results[4]) == 8
    assert sorted(calls, key=str) == sorted([(6, "etl9g", 5), (1, ["亜", "唖"], 5), (8, "etl9g", 5)], key=str)


def test_requests_with_different_top_k_share_a_call_and_get_their_own_length():
    calls = []

    async def run(images, candidates, top_k):
        calls.append((len(images), top_k))
        return [[f"{img}#{r}" for r in range(top_k)] for img in images]

    async def scenario():
        batcher = MicroBatcher(run, max_batch=8, max_wait_ms=20)
        return await asyncio.gather(batcher.submit(["a"], "etl9g", 1), batcher.submit(["b", "c"], "etl9g", 3))

    short, long = asyncio.run(scenario())
    assert calls == [(3, 3)]  # one model call at the largest top_k ...
    assert short == [["a#0"]] and long == [["b#0", "b#1", "b#2"], ["c#0", "c#1", "c#2"]]  # ... cut per request


def test_an_error_reaches_every_request_of_the_batch():
    async def run(images, candidates, top_k):
        raise ValueError("unknown charset")

    async def scenario():
        batcher = MicroBatcher(run, max_batch=8, max_wait_ms=10)
        return await asyncio.gather(batcher.submit([1], "x", 1), batcher.submit([2], "x", 1), return_exceptions=True)

    assert all(isinstance(r, ValueError) for r in asyncio.run(scenario()))


def test_server_answers_concurrent_requests_correctly(live_char_server):
    """Through the real server: 12 concurrent single-image requests, each gets its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        r = httpx.post(live_char_server.url + "/v1/recognize", timeout=60,
                       files={"images": ("g.png", badinput.glyph_png(), "image/png")})
        return r.status_code, len(r.json()["results"])

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(one, range(12)))
    assert answers == [(200, 1)] * 12
