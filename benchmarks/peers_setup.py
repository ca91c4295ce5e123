"""Install the peers the way docs/PEERS.md measures them (`python benchmarks/peers.py --setup`).

1. Debian packages: Tesseract 5, its jpn / chi_sim / bod data, and the headers tesserocr
   compiles against (the same names are in apt-packages-bench.txt).
2. tesserocr built from source against that libtesseract (`pip --no-binary tesserocr`): the
   PyPI wheel bundles a different Tesseract, so in-process and CLI numbers would not be the
   same engine. Rebuilt only when the installed one is missing or reports another version.
3. rapidocr (PyPI, bundled PP-OCR ONNX models) when missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

PEER_APT_PACKAGES = (
    "tesseract-ocr", "tesseract-ocr-jpn", "tesseract-ocr-chi-sim", "tesseract-ocr-bod",
    "libtesseract-dev", "libleptonica-dev", "pkg-config", "g++",
)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _missing_apt(packages: tuple[str, ...]) -> list[str]:
    missing = []
    for package in packages:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in done.stdout:
            missing.append(package)
    return missing


def _install_apt(packages: list[str]) -> None:
    if os.geteuid() != 0:
        raise SystemExit("peers setup: run as root, or first: sudo apt-get install -y " + " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env)


def _system_tesseract_version() -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        return ""
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()
    return out[1] if len(out) > 1 else ""


def _tesserocr_version() -> str:
    """Tesseract version tesserocr is linked with (run in a child: a broken build can crash)."""
    code = "import tesserocr; print(tesserocr.tesseract_version().split()[1])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _pip(*args: str) -> None:
    constraints = os.path.join(REPO, "constraints.txt")
    extra = ["-c", constraints] if os.path.isfile(constraints) else []
    subprocess.run([sys.executable, "-m", "pip", "install", *extra, *args], check=True)


def setup_peers() -> int:
    """Install whatever is missing; print what was done. Returns 0 on success."""
    missing = _missing_apt(PEER_APT_PACKAGES)
    if missing:
        print("==> apt-get install", " ".join(missing))
        _install_apt(missing)
    system, linked = _system_tesseract_version(), _tesserocr_version()
    if linked != system:
        print(f"==> building tesserocr against Debian's Tesseract {system} (installed: {linked or 'none'})")
        _pip("--no-binary", "tesserocr", "--force-reinstall", "--no-deps", "tesserocr")
    if importlib.util.find_spec("rapidocr") is None:
        print("==> pip install rapidocr")
        _pip("rapidocr>=3.0")
    print(f"peers ready: tesseract {system}, tesserocr linked to {_tesserocr_version() or '?'}")
    return 0
