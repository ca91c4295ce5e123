import pytest

from hieralign.testing.live import LiveServer


@pytest.fixture(scope="session")
def char_service(tiny_checkpoint):
    from hieralign.serve.backends import CharService

    return CharService.load(str(tiny_checkpoint), candidates="model")


@pytest.fixture(scope="session")
def live_char_server(char_service):
    from hieralign.serve.app import create_app
    from hieralign.serve.config import ServeConfig

    cfg = ServeConfig(max_body_mb=1.0, max_text_chars=256)
    with LiveServer(create_app(cfg, char_service, None)) as server:
        server.cfg = cfg
        yield server


@pytest.fixture(scope="session")
def line_service(line_model_dir):
    from hieralign.serve.backends import LineService

    model_dir, data = line_model_dir
    return LineService.load(str(model_dir), None, str(data))


@pytest.fixture(scope="session")
def ocr_service(ctc_model_dir, tmp_path_factory):
    """A line-OCR service: the tiny CTC model + a transcription index of its 8 training lines."""
    from hieralign.index.ocr_index import build_ocr_index
    from hieralign.serve.line_ocr import OcrLineService

    model, data = ctc_model_dir
    index = tmp_path_factory.mktemp("ocr-index") / "index"
    build_ocr_index(model, [str(data / "train.jsonl")], index)
    return OcrLineService.load(str(model), str(index))
