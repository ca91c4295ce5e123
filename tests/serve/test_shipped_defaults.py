"""`hieralign serve` with no model flags serves the models shipped in the package."""

from hieralign import defaults
from hieralign.serve.cli import build_app, build_parser, config_from_args


def test_shipped_models_fill_missing_flags_and_load():
    cfg = config_from_args(build_parser().parse_args([]))
    assert cfg.char_model == str(defaults.SHIPPED_CHAR_MODEL)
    # the line default is the shipped CTC recogniser with its sample index (line-CLIP only without it)
    assert cfg.line_model == str(defaults.SHIPPED_LINE_OCR_MODEL)
    assert cfg.index_dir == str(defaults.SHIPPED_LINE_OCR_INDEX)
    from fastapi.testclient import TestClient

    with TestClient(build_app(cfg)) as client:
        info = client.get("/v1/info").json()
        assert info["char_model"] and info["line_model"]  # both model cards are served
        hits = client.post("/v1/search/text", json={"text": "བཀྲ་ཤིས་"})
        assert hits.status_code == 200 and hits.json()["lines"]  # served from the shipped index


def test_shipped_index_is_not_paired_with_another_line_model(tmp_path, monkeypatch):
    other = tmp_path / "my-line-model"
    other.mkdir()
    monkeypatch.setenv(defaults.LINE_MODEL_ENV, str(other))
    cfg = config_from_args(build_parser().parse_args([]))
    assert cfg.line_model == str(other)
    assert cfg.index_dir is None and cfg.line_root is None


def test_no_default_models_flag_leaves_models_out():
    cfg = config_from_args(build_parser().parse_args(["--no-default-models"]))
    assert cfg.char_model is None and cfg.line_model is None
