import base64
import io

import httpx
import pytest
from PIL import Image

from hieralign.serve.app import create_app
from hieralign.serve.config import ServeConfig
from hieralign.testing import badinput
from hieralign.testing.live import LiveServer


@pytest.fixture(scope="module")
def line_server(line_service):
    with LiveServer(create_app(ServeConfig(), None, line_service)) as server:
        yield server


def test_text_search_returns_indexed_lines_with_servable_images(line_server, line_service):
    with httpx.Client(base_url=line_server.url, timeout=60) as client:
        body = client.post("/v1/search/text", json={"text": "བཀྲ་ཤིས་བདེ་ལེགས", "k": 3}).json()
        assert 1 <= len(body["lines"]) <= 3
        hit = body["lines"][0]
        assert hit["text"] and hit["image_url"].startswith("/v1/lines/image/") and hit["info"]["split"]
        image = client.get(hit["image_url"])
        assert image.status_code == 200 and Image.open(io.BytesIO(image.content)).size[0] > 0
        # Only ids handed out by a search exist; a well-formed but unknown id is a 404 too.
        assert client.get("/v1/lines/image/" + "0" * 32).status_code == 404
        glyph = base64.b64encode(badinput.glyph_png()).decode()
        no_char_model = client.post("/v1/recognize", json={"images": [glyph]})
        assert no_char_model.status_code == 503 and "--model" in no_char_model.json()["detail"]
        assert client.get("/healthz").json()["line_model"] is True
        assert client.get("/v1/info").json()["line_model"]["kind"] == "line_clip"
        cannot = client.post("/v1/transcribe", json={"images": [glyph]})  # line-CLIP cannot transcribe
        assert cannot.status_code == 503 and "line-OCR" in cannot.json()["detail"]


def test_image_search_returns_texts_and_lines(line_server, line_model_dir):
    _, data = line_model_dir
    line_png = next(data.rglob("*.png"))
    with httpx.Client(base_url=line_server.url, timeout=60) as client:
        multipart = client.post("/v1/search/image", files={"image": ("l.png", line_png.read_bytes(), "image/png")},
                                data={"k": "2"}).json()
        as_json = client.post("/v1/search/image",
                              json={"image": base64.b64encode(line_png.read_bytes()).decode(), "k": 2}).json()
    assert len(multipart["texts"]) == 2 and multipart["texts"][0]["text"]
    assert [t["text"] for t in multipart["texts"]] == [t["text"] for t in as_json["texts"]]
    assert multipart["lines"][0]["image_url"]

