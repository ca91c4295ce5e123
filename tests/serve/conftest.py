import pytest

from hieralign.serve.live import LiveServer
from hieralign.serve.tiny import cached_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint():
    """A real Hi-GITA checkpoint, trained for seconds on 16 kanji rendered from IPA fonts."""
    return cached_tiny_checkpoint()


@pytest.fixture(scope="session")
def export_dir(tiny_checkpoint, tmp_path_factory):
    from hieralign.export.char_export import CharExportConfig, export_char

    out = tmp_path_factory.mktemp("export")
    export_char(CharExportConfig(model=str(tiny_checkpoint), out=str(out), int8=True, candidates=["etl9g"],
                                 calibration=64, parity_images=16))
    return out


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
def line_model_dir(tmp_path_factory):
    """A tiny line-CLIP (DINOv2 + ByT5 'tiny' configs, 2 steps) on 5 synthetic Tibetan documents."""
    from hieralign.lines.synth import discover_tibetan_fonts
    from hieralign.serve.tiny import build_tiny_line_model

    if not discover_tibetan_fonts():
        pytest.skip("no Tibetan font installed (fonts-tibetan-machine)")
    return build_tiny_line_model(tmp_path_factory.mktemp("line"))


@pytest.fixture(scope="session")
def line_service(line_model_dir):
    from hieralign.serve.backends import LineService

    model_dir, data = line_model_dir
    return LineService.load(str(model_dir), None, str(data))
