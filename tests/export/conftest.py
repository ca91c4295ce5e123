import pytest

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
def line_model_dir(tmp_path_factory):
    from hieralign.lines.synth import discover_tibetan_fonts
    from hieralign.serve.tiny import build_tiny_line_model

    if not discover_tibetan_fonts():
        pytest.skip("no Tibetan font installed (fonts-tibetan-machine)")
    return build_tiny_line_model(tmp_path_factory.mktemp("line"))
