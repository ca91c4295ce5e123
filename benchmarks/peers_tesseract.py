"""Tesseract 5 as a peer: single CJK glyphs (`TesseractGlyph`) and Tibetan lines (`TesseractLine`).

Two backends with the same results (same library, same traineddata):
- `tesserocr`: in-process through `tesserocr` built from source against Debian's
  libtesseract-dev (`pip install --no-binary tesserocr tesserocr`). The PyPI binary wheel
  bundles another Tesseract and looks for traineddata in "./"; we always pass the tessdata
  directory explicitly, so either build finds Debian's language files.
- `cli`: the `tesseract` program per image (PNG through stdin/stdout). Same output, but each
  call pays a process start (~0.1 s), so use it only when tesserocr cannot be built.
`backend="auto"` takes tesserocr when it imports and loads the language, else the CLI; the
chosen one is in `.name` ("tesseract[tesserocr] ..." or "tesseract[cli] ...").

Settings that matter (DESIGN §6, docs/PEERS.md): single glyphs need `psm=8` (word) or `13` (raw
line), `psm=10` (single char) misses many; a glyph needs a small paper frame (8 px at 64 px),
large frames hurt; Tibetan uchen lines read best resized to a fixed height (32-48 px, i.e.
about ×0.5 of a ~64-96 px line) with `psm=7`; Tesseract's OpenMP team is switched off per call (`single_thread`), which makes
it 3-5x faster on a busy 2-core machine.
An engine object is not thread-safe: make one per thread.
"""

from __future__ import annotations

import ctypes
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.peers_base import Availability, PeerEngine, first_symbol, has_ink, prepare_page

TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",  # Debian/Ubuntu tesseract 5
    "/usr/share/tesseract-ocr/4.00/tessdata",  # Debian/Ubuntu tesseract 4
    "/usr/share/tessdata",  # Fedora/Arch
    "/usr/local/share/tessdata",  # source builds, Homebrew
    "/opt/homebrew/share/tessdata",
)
INSTALL_HINT = ("install it with `apt-get install tesseract-ocr tesseract-ocr-{pkg}` (see "
                "apt-packages-bench.txt), or point TESSDATA_PREFIX at a folder holding {lang}.traineddata")


def find_tessdata(lang: str) -> str | None:
    """The folder holding `{lang}.traineddata`: $TESSDATA_PREFIX (or its tessdata/) first,
    then the usual system folders; None when no folder has it."""
    folders = []
    if os.environ.get("TESSDATA_PREFIX"):
        prefix = os.environ["TESSDATA_PREFIX"]
        folders += [prefix, os.path.join(prefix, "tessdata")]
    folders += list(TESSDATA_CANDIDATES)
    for folder in folders:
        if os.path.isfile(os.path.join(folder, f"{lang}.traineddata")):
            return folder
    return None


@lru_cache(maxsize=16)
def traineddata_version(lang: str) -> str:
    """Debian package version of the language data (e.g. "1:4.1.0-2"), "" when not from dpkg."""
    package = "tesseract-ocr-" + lang.replace("_", "-").lower()
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


@dataclass
class TesseractSettings:
    """How Tesseract is called; shared by the glyph and the line wrapper."""

    lang: str  # traineddata name(s), e.g. "jpn", "chi_sim", "bod", "jpn+eng"
    psm: int  # page segmentation mode: 8 word / 13 raw line for glyphs, 7 single line for lines
    backend: str = "auto"  # "auto" | "tesserocr" (in-process) | "cli" (subprocess per image)
    scale: float = 1.0  # resize factor applied before OCR (used when target_height is None)
    target_height: int | None = None  # resize every image to this height instead (lines: 48)
    pad: int = 8  # paper border in pixels added after scaling
    variables: dict[str, str] = field(default_factory=dict)  # extra Tesseract variables (-c k=v)
    # Run Tesseract's OpenMP loops on the calling thread. Its default OpenMP threads make it 3-5x
    # *slower* per image on a busy 2-core machine (docs/PEERS.md); same text either way.
    single_thread: bool = True

    def __post_init__(self) -> None:
        if self.backend not in ("auto", "tesserocr", "cli"):
            raise ValueError(f"backend must be 'auto', 'tesserocr' or 'cli', not {self.backend!r}")
        if self.target_height is not None and self.target_height < 8:
            raise ValueError(f"target_height must be >= 8 px, not {self.target_height}")
        if not 0 <= self.psm <= 13:
            raise ValueError(f"psm must be a Tesseract page segmentation mode 0..13, not {self.psm}")


def _omp_env(settings: TesseractSettings) -> dict[str, str]:
    """Environment for the CLI: OMP_THREAD_LIMIT=1 when single-threaded (unless already set)."""
    env = dict(os.environ)
    if settings.single_thread:
        env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


def _loaded_libgomp():
    """The process's libgomp (the one libtesseract is bound to; torch ships one with the same
    soname and, when imported first, Tesseract uses that), or None without OpenMP."""
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


class _InProcessBackend:
    """tesserocr's PyTessBaseAPI, fed raw grayscale bytes (no PNG encoding per call)."""

    def __init__(self, settings: TesseractSettings, tessdata: str) -> None:
        import tesserocr

        self.api = tesserocr.PyTessBaseAPI(path=tessdata, lang=settings.lang, psm=settings.psm)
        for key, value in settings.variables.items():
            if not self.api.SetVariable(key, str(value)):
                raise ValueError(f"Tesseract does not know the variable {key!r}")
        self.version = f"tesseract {tesserocr.tesseract_version().split()[1]} (tesserocr {tesserocr.__version__})"
        # OMP_THREAD_LIMIT is read once per process (by torch's libgomp if torch came first), so
        # serialise per call instead: max-active-levels 0 makes every parallel region a team of
        # one, and it is restored right after so torch's own OpenMP is untouched.
        self.gomp = _loaded_libgomp() if settings.single_thread else None

    def ocr(self, page: np.ndarray) -> str:
        height, width = page.shape
        self.api.SetImageBytes(page.tobytes(), width, height, 1, width)
        if self.gomp is None:
            return self.api.GetUTF8Text()
        levels = self.gomp.omp_get_max_active_levels()
        self.gomp.omp_set_max_active_levels(0)
        try:
            return self.api.GetUTF8Text()
        finally:
            self.gomp.omp_set_max_active_levels(levels)


class _CliBackend:
    """One `tesseract` process per image; the PNG goes through stdin, the text comes back on stdout."""

    def __init__(self, settings: TesseractSettings, tessdata: str) -> None:
        exe = shutil.which("tesseract")
        if exe is None:
            raise FileNotFoundError("the `tesseract` program is not on PATH")
        self.env = _omp_env(settings)
        self.command = [exe, "stdin", "stdout", "--tessdata-dir", tessdata, "-l", settings.lang,
                        "--psm", str(settings.psm)]
        for key, value in settings.variables.items():
            self.command += ["-c", f"{key}={value}"]
        first_line = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        self.version = first_line.splitlines()[0].strip() + " (CLI)" if first_line else "tesseract (CLI)"

    def ocr(self, page: np.ndarray) -> str:
        buffer = io.BytesIO()
        Image.fromarray(page).save(buffer, format="PNG", compress_level=1)
        done = subprocess.run(self.command, input=buffer.getvalue(), capture_output=True, timeout=120,
                              env=self.env)
        if done.returncode != 0:
            raise RuntimeError(f"tesseract failed ({done.returncode}): {done.stderr.decode(errors='replace')[-400:]}")
        return done.stdout.decode("utf-8", errors="replace")


class _TesseractEngine(PeerEngine):
    """Lazy backend loading and availability shared by the glyph and line wrappers."""

    def __init__(self, settings: TesseractSettings) -> None:
        self.settings = settings
        self._backend: _InProcessBackend | _CliBackend | None = None
        self._status: Availability | None = None

    def _load(self) -> Availability:
        s = self.settings
        first_lang = s.lang.split("+")[0]
        tessdata = find_tessdata(first_lang)
        if tessdata is None:
            hint = INSTALL_HINT.format(pkg=first_lang.replace("_", "-").lower(), lang=first_lang)
            return Availability(False, f"no {first_lang}.traineddata found; {hint}")
        errors = []
        kinds = ["tesserocr", "cli"] if s.backend == "auto" else [s.backend]
        for kind in kinds:
            try:
                self._backend = (_InProcessBackend if kind == "tesserocr" else _CliBackend)(s, tessdata)
                return Availability(True, "")
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                errors.append(f"{kind}: {exc}")
        return Availability(False, "Tesseract cannot run (" + "; ".join(errors) + "); "
                            + INSTALL_HINT.format(pkg=first_lang.replace("_", "-").lower(), lang=first_lang)
                            + "; for in-process speed: pip install --no-binary tesserocr tesserocr")

    def available(self) -> Availability:
        if self._status is None:
            self._status = self._load()
        return self._status

    @property
    def backend(self) -> str:
        """The backend in use: "tesserocr", "cli", or "unavailable"."""
        if not self.available():
            return "unavailable"
        return "tesserocr" if isinstance(self._backend, _InProcessBackend) else "cli"

    @property
    def name(self) -> str:  # type: ignore[override]
        s = self.settings
        scale = f" h{s.target_height}" if s.target_height else (f" x{s.scale:g}" if s.scale != 1.0 else "")
        return f"tesseract[{self.backend}] {s.lang} psm{s.psm}{scale}"

    @property
    def version(self) -> str:
        if not self.available():
            return ""
        data = traineddata_version(self.settings.lang.split("+")[0])
        return self._backend.version + (f", {self.settings.lang} data {data}" if data else "")

    def ocr_text(self, img: np.ndarray | Image.Image, target_height: int | None = None) -> str:
        """Tesseract's raw text for one image (see peers_base for the image convention);
        `target_height` overrides the settings' size for this call."""
        self.require()
        s = self.settings
        height_goal, scale = target_height or s.target_height, s.scale
        if height_goal is not None:
            height = img.height if isinstance(img, Image.Image) else np.asarray(img).shape[0]
            scale = height_goal / max(1, height)
        page = prepare_page(img, scale, s.pad)
        return self._backend.ocr(page) if has_ink(page) else ""


class TesseractGlyph(_TesseractEngine):
    """Tesseract on one CJK glyph: `recognize(img) -> str` is the top-1 character ("" when
    Tesseract reads nothing). `img`: uint8 ink-intensity array (0 paper, 255 ink) or a PIL image."""

    def __init__(self, lang: str = "jpn", psm: int = 8, **settings: Any) -> None:
        super().__init__(TesseractSettings(lang=lang, psm=psm, **settings))

    def recognize(self, img: np.ndarray | Image.Image) -> str:
        return first_symbol(self.ocr_text(img))

    def read_text(self, img: np.ndarray | Image.Image) -> str:
        """Everything Tesseract read, whitespace removed (a split glyph shows as 2+ chars)."""
        return "".join(self.ocr_text(img).split())

    def run(self, img: Any) -> str:
        return self.recognize(img)


class TesseractLine(_TesseractEngine):
    """Tesseract on one text line: `read(img) -> str`, whitespace collapsed to single spaces.

    Defaults are for Tibetan uchen (`bod`, single-line psm 7). Tesseract misreads some lines at
    their own size and reads them well when they are resized to a fixed height: 48 px was best
    in `benchmarks/peers_sweep.py` (mean CER 0.7 %, 32 px 1.4 %; docs/PEERS.md), so every line
    is resized to `target_height=48` by default. `scale=0.5` (or any factor) uses a fixed factor
    instead, as DESIGN §6 describes (×0.5 of a ~64 px line is the same idea)."""

    def __init__(self, lang: str = "bod", scale: float | None = None, psm: int = 7,
                 target_height: int | None = 48, retry_heights: tuple[int, ...] = (32, 64),
                 **settings: Any) -> None:
        if scale is not None:
            target_height = None  # an explicit factor wins over the default height
        super().__init__(TesseractSettings(lang=lang, psm=psm, scale=1.0 if scale is None else scale,
                                           target_height=target_height, **settings))
        # Tesseract sometimes returns nothing for a whole clean line at one size and reads it
        # perfectly at another: an empty reading is retried at these heights, in order.
        self.retry_heights = tuple(retry_heights)

    @property
    def name(self) -> str:  # type: ignore[override]
        retry = "/".join(str(h) for h in self.retry_heights)
        return super().name + (f" retry-h{retry}" if retry else "")

    def read(self, img: np.ndarray | Image.Image) -> str:
        text = " ".join(self.ocr_text(img).split())
        for height in self.retry_heights:
            if text:
                break
            text = " ".join(self.ocr_text(img, target_height=height).split())
        return text

    def run(self, img: Any) -> str:
        return self.read(img)
