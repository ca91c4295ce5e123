"""Issue 12 server findings 1-4: exhaustion with legal requests, server paths, deep JSON, blank images."""

import asyncio
import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from hieralign.serve.app import create_app
from hieralign.serve.config import ServeConfig
from hieralign.serve.limits import InFlightLimit, PixelBudget
from hieralign.testing import badinput
from hieralign.utils.lru import ByteLRU


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _client(char_service, **limits):
    from fastapi.testclient import TestClient

    return TestClient(create_app(ServeConfig(**limits), char_service, None))


def _files(*pngs: bytes, field: str = "images"):
    return [(field, (f"{i}.png", data, "image/png")) for i, data in enumerate(pngs)]


def test_request_pixel_budget_is_checked_from_headers_before_decoding(char_service):
    client = _client(char_service, max_request_pixels=1_000_000)
    big = _png(Image.new("L", (800, 800), 255))  # 640 k pixels each: two fit the image limit, not the request's
    r = client.post("/v1/recognize", files=_files(big, big))
    assert r.status_code == 413 and "1000000 pixels per request" in r.json()["detail"]
    assert client.post("/v1/recognize", files=_files(badinput.glyph_png())).status_code == 200


def test_pixel_budget_in_flight_answers_busy():
    budget = PixelBudget(100)
    budget.acquire(80)
    with pytest.raises(Exception) as err:
        budget.acquire(30)
    assert err.value.status == 503 and err.value.retry_after >= 1
    budget.release(80)
    budget.acquire(500)  # alone, even a request above the ceiling runs (the per-request limit bounds it)
    assert budget.held == 500


def test_in_flight_limit_answers_503_with_retry_after():
    gate = asyncio.Event()

    async def slow_app(scope, receive, send):
        await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario():
        app = InFlightLimit(slow_app, max_in_flight=2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            held = [asyncio.ensure_future(client.get("/v1/info")) for _ in range(2)]
            await asyncio.sleep(0.05)
            refused = await client.get("/v1/recognize")
            gate.set()
            return refused, await asyncio.gather(*held), await client.get("/healthz")

    refused, held, health = asyncio.run(scenario())
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert [r.status_code for r in held] == [200, 200] and health.status_code == 200


def test_candidate_cache_is_bounded_in_bytes(char_service):
    from hieralign.knowledge.charsets import charset

    client = _client(char_service, candidate_cache_mb=0.05)  # ~52 kB: a few small matrices
    cache = char_service.recognizer._matrices
    assert isinstance(cache, ByteLRU)
    kanji = charset("jis1")
    for i in range(12):  # 12 distinct 60-character lists
        r = client.post("/v1/recognize", files=_files(badinput.glyph_png()),
                        data={"candidates": "".join(kanji[i * 60:(i + 1) * 60])})
        assert r.status_code == 200, r.text
    assert cache.total <= cache.max_bytes and len(cache) < 12


def test_byte_lru_drops_least_recently_used():
    cache = ByteLRU(max_bytes=3 * 400)
    for key in "abc":
        cache[key] = np.zeros(100, np.float32)  # 400 bytes each
    _ = cache["a"]  # a is now the most recent
    cache["d"] = np.zeros(100, np.float32)
    assert set(cache) == {"a", "c", "d"} and cache.total == 1200
    cache["huge"] = np.zeros(1000, np.float32)  # larger than the budget: kept alone, readable at once
    assert list(cache) == ["huge"] and cache["huge"].shape == (1000,)


@pytest.mark.parametrize("exists", [True, False])
def test_candidates_never_name_a_server_file(char_service, tmp_path, monkeypatch, exists):
    monkeypatch.chdir(tmp_path)
    if exists:
        (tmp_path / "Makefile").write_text("漢字\n", encoding="utf-8")
    client = _client(char_service)
    r = client.post("/v1/recognize", files=_files(badinput.glyph_png()), data={"candidates": "Makefile"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("candidates: unknown candidate set 'Makefile'")  # same either way
    r = client.post("/v1/recognize", json={"images": [], "candidates": "etl9g,kana"})
    assert r.status_code == 400  # a comma list of names is fine; no images is the error


@pytest.mark.parametrize("route", ["/v1/recognize", "/v1/search/text"])
def test_deep_json_is_a_400_not_a_500(char_service, route):
    client = _client(char_service)
    for depth in (100_000, 30_000, 50):  # text search: 100 000 deep is past its 64 kB body limit first
        body = b"[" * depth + b"]" * depth
        r = client.post(route, content=body, headers={"content-type": "application/json"})
        if len(body) > 65_536 and route == "/v1/search/text":
            assert r.status_code == 413, r.text
        else:
            assert r.status_code == 400 and "deeper than 8 levels" in r.json()["detail"], (depth, r.text)


def test_text_search_body_has_its_own_size_limit(char_service):
    client = _client(char_service)
    r = client.post("/v1/search/text", content=json.dumps({"text": "x" * 70_000}),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "65536" in r.json()["detail"]


@pytest.mark.parametrize("img", [Image.new("L", (1, 1), 0), Image.new("L", (64, 64), 255),
                                 Image.new("RGBA", (64, 64), (0, 0, 0, 0))], ids=["1x1", "white", "transparent"])
def test_blank_image_is_no_ink_found(char_service, img):
    r = _client(char_service).post("/v1/recognize", files=_files(_png(img)))
    assert r.status_code == 400 and "no ink found" in r.json()["detail"]


def test_bomb_message_quotes_the_configured_limit(char_service):
    client = _client(char_service, max_image_pixels=1_000_000, max_image_side=20_000)
    r = client.post("/v1/recognize", files=_files(badinput.bomb_png()))  # 400 M pixels: Pillow's guard fires
    detail = r.json()["detail"]
    assert r.status_code == 413 and "1000000 pixels" in detail and "decompression bomb" not in detail


@pytest.mark.parametrize("field", ["images", "image", "file"])
def test_image_field_aliases_work_and_are_in_the_schema(char_service, field):
    client = _client(char_service)
    assert client.post("/v1/recognize", files=_files(badinput.glyph_png(), field=field)).status_code == 200
    form = client.get("/openapi.json").json()["paths"]["/v1/recognize"]["post"]["requestBody"]["content"]
    assert field in form["multipart/form-data"]["schema"]["properties"]
