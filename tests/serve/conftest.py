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


class LiveServer:
    """uvicorn serving `app` on a free loopback port, in a background thread."""

    def __init__(self, app):
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    timeout_keep_alive=5))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


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
