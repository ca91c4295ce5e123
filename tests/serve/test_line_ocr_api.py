"""/v1/transcribe and the hybrid /v1/search/* of a line-OCR model, over a real socket."""

import base64
import json

import httpx
import pytest

from hieralign.serve.app import create_app
from hieralign.serve.config import ServeConfig
from hieralign.testing import badinput
from hieralign.testing.live import LiveServer


@pytest.fixture(scope="module")
def ocr_server(ocr_service):
    cfg = ServeConfig(max_images=4)
    with LiveServer(create_app(cfg, None, ocr_service)) as server:
        yield server


def _lines(ocr_service):
    rows = ocr_service.searcher.rows
    return [open(r["image"], "rb").read() for r in rows[:3]], ocr_service.searcher.index.texts[:3]


def test_transcribe_reads_lines_like_the_index_did(ocr_server, ocr_service):
    images, texts = _lines(ocr_service)
    with httpx.Client(base_url=ocr_server.url, timeout=60) as client:
        files = [("images", (f"l{i}.png", b, "image/png")) for i, b in enumerate(images)]
        multipart = client.post("/v1/transcribe", files=files)
        as_json = client.post("/v1/transcribe", json={"images": [base64.b64encode(b).decode() for b in images]})
        assert multipart.status_code == 200, multipart.text
        assert [r["text"] for r in multipart.json()["results"]] == texts
        assert as_json.json()["results"] == multipart.json()["results"]
        assert all(r["score"] <= 0 for r in as_json.json()["results"])
        too_many = client.post("/v1/transcribe", json={"images": [base64.b64encode(images[0]).decode()] * 5})
        assert too_many.status_code == 413 and "limit is 4" in too_many.json()["detail"]
        garbage = client.post("/v1/transcribe", files={"images": ("x.png", b"not an image", "image/png")})
        assert garbage.status_code == 415  # as /v1/recognize answers a non-image
        bomb = client.post("/v1/transcribe", files={"images": ("b.png", badinput.bomb_png(), "image/png")})
        assert bomb.status_code == 413
        assert client.post("/v1/transcribe", json={"images": [], "beam": 99}).status_code in (400, 422)
        spec = client.get("/openapi.json").json()
        assert "/v1/transcribe" in spec["paths"] and "span" in json.dumps(spec["components"]["schemas"]["LineHit"])
        assert client.get("/v1/info").json()["line_model"]["kind"] == "line_ocr"


def test_text_search_is_hybrid_with_spans_and_servable_images(ocr_server, ocr_service):
    texts = ocr_service.searcher.index.texts
    query = max(texts, key=len)
    inner = query[1:-1]
    with httpx.Client(base_url=ocr_server.url, timeout=60) as client:
        body = client.post("/v1/search/text", json={"text": inner, "k": 3}).json()
        top = body["lines"][0]
        assert top["text"] == query and top["text"][top["span"][0]:top["span"][1]] == inner
        assert top["score"] is not None and top["info"]["manifest"].endswith("train.jsonl")
        assert client.get(top["image_url"]).status_code == 200


def test_image_search_returns_the_transcription_and_nearest_texts(ocr_server, ocr_service):
    images, texts = _lines(ocr_service)
    with httpx.Client(base_url=ocr_server.url, timeout=60) as client:
        body = client.post("/v1/search/image", files={"image": ("l.png", images[0], "image/png")}).json()
    assert body["transcription"]["text"] == texts[0]
    assert body["texts"][0]["text"] == texts[0] and body["lines"][0]["image_url"]
