"""Shared by the serve benchmarks: start a loopback server (subprocess) or check a given URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlparse

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def require_loopback(url: str) -> str:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to benchmark {url}: these benchmarks only target loopback servers")
    return url.rstrip("/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(model: str | None, extra: list[str] = (), startup_s: float = 300):
    """`hieralign serve` on a free loopback port; a tiny checkpoint is built when no model is given."""
    with server_process(model, extra, startup_s) as (url, _):
        yield url


@contextmanager
def server_process(model: str | None, extra: list[str] = (), startup_s: float = 300):
    """Like `server`, yielding (url, subprocess.Popen) so a benchmark can watch the process."""
    import httpx

    if model is None:
        from hieralign.testing.tiny import cached_tiny_checkpoint

        print("using the tiny smoke-test checkpoint (no --model given) ...", file=sys.stderr)
        model = str(cached_tiny_checkpoint())
        extra = ["--candidates", "model", *extra]
    port = free_port()
    cmd = [sys.executable, "-m", "hieralign.cli", "serve", "--model", model, "--port", str(port),
           "--log-level", "warning", *extra]
    proc = subprocess.Popen(cmd, env={**os.environ, "HIERALIGN_NO_PROGRESS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start in time")
            time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def machine() -> dict:
    return {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "python": sys.version.split()[0]}
