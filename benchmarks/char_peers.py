"""Peers on the same evaluation glyphs: Tesseract 5 `jpn` and RapidOCR recognition-only.

Both were trained on (nearly) every CJK class, including our "unseen" ones: their numbers are
closed-set recognition, not zero-shot. Glyphs are shown as dark ink on white paper with a
margin, the way both expect text.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np


def _as_paper(glyph: np.ndarray, pad: int = 16) -> np.ndarray:
    return np.pad(255 - np.asarray(glyph, np.uint8), pad, constant_values=255)


def _sample(store, per_style: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for style in store.style_names:
        idx = store.indices_for(None, [style])
        out[style] = np.sort(rng.choice(idx, min(per_style, len(idx)), replace=False))
    return out


def _tesseract_engine(psm: int):
    """(callable image->text, mode name): tesserocr in-process when importable, else the CLI."""
    try:
        import tesserocr
        from PIL import Image

        api = tesserocr.PyTessBaseAPI(lang="jpn", psm=psm)

        def run(img: np.ndarray) -> str:
            api.SetImage(Image.fromarray(img))
            return api.GetUTF8Text().strip()

        return run, f"tesserocr {tesserocr.tesseract_version().split()[1]} (in-process)"
    except ImportError:
        pass
    if shutil.which("tesseract") is None:
        return None, "tesseract not installed (apt-packages-bench.txt: tesseract-ocr tesseract-ocr-jpn)"
    from PIL import Image

    tmp = Path(tempfile.mkdtemp(prefix="tess"))

    def run_cli(img: np.ndarray) -> str:
        path = tmp / "g.png"
        Image.fromarray(img).save(path)
        res = subprocess.run(["tesseract", str(path), "stdout", "-l", "jpn", "--psm", str(psm)],
                             capture_output=True, text=True, timeout=60)
        return res.stdout.strip()

    return run_cli, "tesseract CLI (one process per glyph)"


def _rapidocr_engine():
    try:
        from rapidocr import RapidOCR
    except ImportError:
        return None, "rapidocr not installed (pip install 'hieralign[bench]')"
    engine = RapidOCR()

    def run(img: np.ndarray) -> str:
        res = engine(np.stack([img] * 3, -1), use_det=False, use_cls=False, use_rec=True)
        return (res.txts or ("",))[0].strip()

    return run, "rapidocr recognition-only (PP-OCR rec, bundled ONNX)"


def _score(run, store, sample: dict[str, np.ndarray]) -> dict:
    out, total_time, total_n = {}, 0.0, 0
    for style, idx in sample.items():
        hits = 0
        for i in idx:
            img = _as_paper(store.images[i])
            start = time.perf_counter()
            text = run(img)
            total_time += time.perf_counter() - start
            hits += int(text[:1] == store.char(i))
        out[style] = {"n": int(len(idx)), "top1": hits / max(1, len(idx))}
        total_n += len(idx)
    out["ms_per_glyph"] = round(1000 * total_time / max(1, total_n), 2)
    return out


def run_peers(store_path: str | Path, per_style: int = 300) -> dict:
    import torch

    from hieralign.data.store import GlyphStore

    torch.set_num_threads(2)
    store = GlyphStore.open(store_path)
    sample = _sample(store, per_style)
    results: dict = {"note": "closed-set peers: they were trained on these classes; not zero-shot"}
    engines = [(f"tesseract_psm{psm}", *_tesseract_engine(psm)) for psm in (8, 13)]
    engines.append(("rapidocr", *_rapidocr_engine()))
    for name, run, mode in engines:
        results[name] = {"mode": mode, **(_score(run, store, sample) if run else {"skipped": True})}
    return results
