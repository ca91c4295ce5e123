import base64
import io

import httpx
import numpy as np
import pytest

from hieralign.models.char.recognizer import CharRecognizer
from hieralign.serve.app import create_app
from hieralign.serve.config import ServeConfig
from hieralign.testing.tiny import render_set


def _png(glyph: np.ndarray, dark_on_light: bool = True) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(255 - glyph if dark_on_light else glyph).resize((120, 120)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def samples(tiny_checkpoint):
    rec = CharRecognizer.from_checkpoint(tiny_checkpoint)
    chars = rec.meta["train_chars"]
    glyphs, labels = render_set(chars, ("IPAGothic",), 64, 4)
    return rec, glyphs[:4], [chars[i] for i in labels[:4]]


def test_recognize_multipart_matches_the_recognizer(live_char_server, samples):
    rec, glyphs, truth = samples
    files = [("images", (f"{i}.png", _png(g), "image/png")) for i, g in enumerate(glyphs)]
    response = httpx.post(live_char_server.url + "/v1/recognize", files=files, data={"top_k": "3"}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == "torch" and len(body["results"]) == 4
    from hieralign.models.char.preprocess import load_gray

    uploads = [load_gray(io.BytesIO(f[1][1])) for f in files]  # exactly what was sent
    direct = rec.recognize(uploads, candidates=list(rec.meta["train_chars"]), top_k=3)
    assert [[c["char"] for c in r] for r in body["results"]] == [[c["char"] for c in r] for r in direct]
    first = body["results"][0][0]
    assert set(first) >= {"char", "score", "decomposition", "tree"} and len(body["results"][0]) == 3
    assert sum(r[0]["char"] == t for r, t in zip(body["results"], truth)) >= 3


def test_recognize_json_base64_and_data_url_and_seed_alias(live_char_server, samples):
    _, glyphs, _ = samples
    b64 = base64.b64encode(_png(glyphs[0])).decode()
    with httpx.Client(base_url=live_char_server.url, timeout=60) as client:
        plain = client.post("/v1/recognize", json={"images": [b64], "top_k": 2}).json()
        data_url = client.post("/v1/recognize", json={"images": ["data:image/png;base64," + b64]}).json()
        seed = client.post("/predict", files={"image": ("c.png", _png(glyphs[0]), "image/png")}).json()
        explicit = client.post("/v1/recognize", json={"images": [b64], "candidates": "亜唖娃"}).json()
    assert len(plain["results"][0]) == 2
    assert plain["results"][0][0]["char"] == data_url["results"][0][0]["char"] == seed["results"][0][0]["char"]
    assert {c["char"] for c in explicit["results"][0]} == set("亜唖娃")


def test_characters_health_info_and_openapi(live_char_server):
    with httpx.Client(base_url=live_char_server.url, timeout=60) as client:
        info = client.get("/v1/characters/漢").json()
        assert info["ids"] and info["tree"] and info["stroke_count"] > 0
        assert info["models"]["char_model"]["in_default_candidates"] is False
        assert client.get("/healthz").json() == {"status": "ok", "char_model": True, "line_model": False}
        card = client.get("/v1/info").json()
        assert card["char_model"]["vocab_hash"] and card["line_model"] is None
        assert card["limits"]["max_body_bytes"] == live_char_server.cfg.max_body_bytes
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/v1/recognize", "/v1/search/text", "/v1/search/image", "/v1/characters/{char}"} <= set(paths)
        page = client.get("/")
        assert page.status_code == 200 and "<canvas" in page.text
        missing = client.post("/v1/search/text", json={"text": "བཀྲ་ཤིས"})
        assert missing.status_code == 503 and "--line-model" in missing.json()["detail"]


def test_token_is_required_when_set(char_service, monkeypatch):
    from fastapi.testclient import TestClient

    client = TestClient(create_app(ServeConfig(token="s3cret"), char_service, None))
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200  # the page loads; it asks for the token
    assert client.get("/v1/info").status_code == 401  # model cards name files: not for strangers
    assert client.get("/v1/characters/漢").status_code == 401
    assert client.get("/v1/characters/漢", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/characters/漢", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_binding_beyond_loopback_needs_a_token(monkeypatch):
    monkeypatch.delenv("HIERALIGN_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match="token"):
        ServeConfig(host="0.0.0.0").check_bind()
    ServeConfig(host="127.0.0.1").check_bind()
    ServeConfig(host="0.0.0.0", token="t").check_bind()
    monkeypatch.setenv("HIERALIGN_API_TOKEN", "from-env")
    ServeConfig(host="0.0.0.0").check_bind()


def test_event_loop_answers_while_inference_runs(live_char_server, samples):
    """Encoding 3,390 JIS level-2 candidates takes seconds; /healthz must answer meanwhile."""
    import threading
    import time

    _, glyphs, _ = samples
    done = {}

    def slow():
        start = time.perf_counter()
        r = httpx.post(live_char_server.url + "/v1/recognize", timeout=300, data={"candidates": "jis2"},
                       files={"images": ("g.png", _png(glyphs[0]), "image/png")})
        done["status"], done["seconds"], done["end"] = r.status_code, time.perf_counter() - start, time.perf_counter()

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.3)
    start = time.perf_counter()
    health = httpx.get(live_char_server.url + "/healthz", timeout=60)
    answered = time.perf_counter()
    worker.join(timeout=300)
    assert health.status_code == 200 and done["status"] == 200
    if done["seconds"] > 1.0:  # the slow call was really slow: health must have come back before it ended
        assert answered < done["end"] and answered - start < 0.5 * done["seconds"]


def test_serving_an_onnx_export_gives_the_torch_answers(export_dir, tiny_checkpoint, samples):
    from fastapi.testclient import TestClient

    from hieralign.serve.backends import CharService

    _, glyphs, _ = samples
    files = [("images", (f"{i}.png", _png(g), "image/png")) for i, g in enumerate(glyphs)]
    answers = {}
    for path in (tiny_checkpoint, export_dir):  # backend "auto": a dir with export.json is an ONNX export
        service = CharService.load(str(path), candidates="model")
        body = TestClient(create_app(ServeConfig(), service, None)).post("/v1/recognize", files=files).json()
        answers[service.backend] = [[c["char"] for c in r] for r in body["results"]]
    assert answers["onnx"] == answers["torch"] and len(answers["torch"]) == 4


def test_cli_refuses_public_bind_without_token_and_builds_config(monkeypatch, capsys):
    from hieralign.serve import cli

    monkeypatch.delenv("HIERALIGN_API_TOKEN", raising=False)
    assert cli.main(["--host", "0.0.0.0", "--port", "8123"]) == 2
    assert "token" in capsys.readouterr().err
    cfg = cli.config_from_args(cli.build_parser().parse_args(
        ["--model", "m.safetensors", "--max-body-mb", "2", "--batch-wait-ms", "0", "--candidates", "joyo"]))
    assert (cfg.char_model, cfg.max_body_bytes, cfg.batch_wait_ms, cfg.candidates) == ("m.safetensors", 2 << 20, 0, "joyo")


def _specks_png() -> bytes:
    """White paper with isolated black specks only: passes the contrast check, no ink after despeckling."""
    from PIL import Image

    paper = np.full((64, 64), 255, np.uint8)
    rng = np.random.default_rng(3)
    paper[rng.integers(2, 62, 24), rng.integers(2, 62, 24)] = 0
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, "PNG")
    return buf.getvalue()


def test_descriptors_are_chosen_per_request_and_reported_per_candidate(live_char_server, samples):
    _, glyphs, _ = samples
    b64 = base64.b64encode(_png(glyphs[0])).decode()
    with httpx.Client(base_url=live_char_server.url, timeout=120) as client:
        out = {d: client.post("/v1/recognize", json={"images": [b64], "descriptors": d, "top_k": 3}).json()
               for d in ("decomposition", "glyphs", "both")}
        form = client.post("/v1/recognize", files={"images": ("a.png", _png(glyphs[0]), "image/png")},
                           data={"descriptors": "decomposition"})
        bad = client.post("/v1/recognize", json={"images": [b64], "descriptors": "pixels"})
    for d, body in out.items():
        first = body["results"][0][0]
        assert {"decomposition_score", "glyph_score", "descriptor"} <= set(first), d
    assert all(c["descriptor"] == "decomposition" and c["glyph_score"] is None
               for c in out["decomposition"]["results"][0])
    assert out["decomposition"]["results"][0][0]["score"] == out["decomposition"]["results"][0][0]["decomposition_score"]
    assert any(c["glyph_score"] is not None for c in out["both"]["results"][0])
    assert form.json()["results"][0][0]["char"] == out["decomposition"]["results"][0][0]["char"]
    assert bad.status_code == 400 and bad.json()["detail"].startswith("descriptors:")


def test_no_ink_is_a_400_for_its_own_request_only_even_when_batched(live_char_server, samples):
    from concurrent.futures import ThreadPoolExecutor

    _, glyphs, _ = samples

    def post(body: bytes):
        return httpx.post(live_char_server.url + "/v1/recognize", files={"images": ("x.png", body, "image/png")},
                          timeout=60)

    with ThreadPoolExecutor(6) as pool:  # arrive together: merged by the micro-batcher
        answers = list(pool.map(post, [_specks_png(), *(_png(g) for g in glyphs), _specks_png()]))
    assert [r.status_code for r in answers] == [400, 200, 200, 200, 200, 400]
    assert answers[0].json()["detail"].startswith("images[0]: no ink found")
