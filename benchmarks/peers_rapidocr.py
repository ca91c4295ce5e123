"""RapidOCR (PP-OCR models on onnxruntime, PyPI `rapidocr` >= 3) as a recognition-only peer.

Detection and angle classification are switched off: a glyph image goes straight to the text
recogniser (PP-OCRv6 small in rapidocr 3.10, bundled in the wheel, 18,710 classes), which is
what a character benchmark should compare against. RapidOCR knows most CJK characters, so on
our "unseen" classes it is *not* zero-shot: say so next to its numbers. No Tibetan model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.peers_base import Availability, PeerEngine, first_symbol, has_ink, prepare_page

INSTALL_HINT = "install it with `pip install -c constraints.txt 'hieralign[bench]'` (PyPI rapidocr >= 3, onnxruntime)"


@dataclass
class RapidOCRSettings:
    """How RapidOCR is built and fed."""

    pad: int = 8  # paper border in pixels around the glyph (8 at 64 px read best here)
    # onnxruntime intra-op threads. One 48x96 glyph is too small to split: 2 threads were 2x
    # slower per glyph on the shared 2-core machine (docs/PEERS.md).
    threads: int = 1
    log_level: str = "warning"  # rapidocr's logger level ("info" prints every call's timing)


class RapidOCRGlyph(PeerEngine):
    """RapidOCR text recogniser on one glyph: `recognize(img) -> str` is the top-1 character
    ("" when nothing is read). `img`: uint8 ink-intensity array (0 paper, 255 ink) or a PIL image."""

    def __init__(self, **settings: Any) -> None:
        self.settings = RapidOCRSettings(**settings)
        self._engine = None
        self._status: Availability | None = None
        self._version = ""

    def _load(self) -> Availability:
        try:
            from importlib.metadata import version

            from rapidocr import RapidOCR
        except ImportError as exc:
            return Availability(False, f"rapidocr is not installed ({exc}); {INSTALL_HINT}")
        s = self.settings
        params = {
            "Global.use_det": False, "Global.use_cls": False, "Global.use_rec": True,
            "Global.log_level": s.log_level,
            "EngineConfig.onnxruntime.intra_op_num_threads": s.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        try:
            self._engine = RapidOCR(params=params)
        except Exception as exc:  # rapidocr raises many types (config, onnxruntime, model files)
            return Availability(False, f"rapidocr failed to start: {exc}; {INSTALL_HINT}")
        rec = self._engine.cfg.Rec
        model = f"{rec.ocr_version.value} rec {rec.model_type.value} {getattr(rec.lang_type, 'value', rec.lang_type)}"
        self._version = f"rapidocr {version('rapidocr')} ({model}, onnxruntime)"
        return Availability(True, "")

    def available(self) -> Availability:
        if self._status is None:
            self._status = self._load()
        return self._status

    @property
    def name(self) -> str:  # type: ignore[override]
        return "rapidocr[rec-only]"

    @property
    def version(self) -> str:
        return self._version if self.available() else ""

    def read_text(self, img: np.ndarray | Image.Image) -> str:
        """Everything the recogniser read, whitespace removed."""
        self.require()
        page = prepare_page(img, 1.0, self.settings.pad)
        if not has_ink(page):
            return ""
        bgr = np.repeat(page[:, :, None], 3, axis=2)  # the recogniser wants 3 channels
        out = self._engine(bgr, use_det=False, use_cls=False, use_rec=True)
        texts = getattr(out, "txts", None) or ()
        return "".join("".join(texts).split())

    def recognize(self, img: np.ndarray | Image.Image) -> str:
        return first_symbol(self.read_text(img))

    def run(self, img: Any) -> str:
        return self.recognize(img)
