"""Peer OCR engines for the benchmarks: one import for everything (docs/PEERS.md).

    from benchmarks.peers import TesseractGlyph, TesseractLine, RapidOCRGlyph, cer

    tess = TesseractGlyph(lang="jpn", psm=8)          # in-process when tesserocr works, else CLI
    if not tess.available():
        print("skipping Tesseract:", tess.available().reason)
    else:
        top1 = tess.recognize(glyph)                   # glyph: uint8 ink intensity (0 paper)
        print(tess.name, tess.version, tess.time_per_item(glyphs), "s/glyph")
    text = TesseractLine(lang="bod").read(line_image)     # resized to 48 px tall, psm 7
    score = cer(reference, text)

Every engine has `.name`, `.version`, `.available()` (an `Availability`, falsy with a `.reason`
that says what to install), `.run(img)` and `.time_per_item(images)` (warm-up excluded).
Arrays are ink intensity; PIL images are taken as they are (dark on light).

`python benchmarks/peers.py` prints which peers run here and their versions; `--setup`
installs them the way docs/PEERS.md measures them (benchmarks/peers_setup.py).
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run or imported as a script from benchmarks/: make the repo importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.peers_base import Availability, PeerEngine, first_symbol, prepare_page, to_paper_gray  # noqa: E402
from benchmarks.peers_rapidocr import RapidOCRGlyph, RapidOCRSettings  # noqa: E402
from benchmarks.peers_tesseract import (  # noqa: E402
    TesseractGlyph,
    TesseractLine,
    TesseractSettings,
    find_tessdata,
)
from benchmarks.peers_text import (  # noqa: E402
    cer,
    corpus_cer,
    edit_distance,
    edit_distance_matrix,
    edit_distances,
    normalize_text,
)

__all__ = [
    "Availability", "PeerEngine", "RapidOCRGlyph", "RapidOCRSettings", "TesseractGlyph",
    "TesseractLine", "TesseractSettings", "cer", "corpus_cer", "default_peers", "edit_distance",
    "edit_distance_matrix", "edit_distances", "find_tessdata", "first_symbol", "normalize_text",
    "prepare_page", "to_paper_gray",
]


def default_peers() -> dict[str, PeerEngine]:
    """The peers the benchmarks report, keyed by role (not loaded until used)."""
    return {
        "tesseract-jpn": TesseractGlyph(lang="jpn", psm=8),
        "tesseract-jpn-cli": TesseractGlyph(lang="jpn", psm=8, backend="cli"),
        "tesseract-chi_sim": TesseractGlyph(lang="chi_sim", psm=8),
        "tesseract-bod-line": TesseractLine(lang="bod"),
        "rapidocr": RapidOCRGlyph(),
    }


def main(argv: list[str] | None = None) -> int:
    """Print one line per peer (role, ok/MISSING, name and version or the reason it cannot run);
    `--setup` first installs the peers (Debian packages, tesserocr from source, rapidocr)."""
    import argparse

    parser = argparse.ArgumentParser(prog="benchmarks/peers.py", description=main.__doc__)
    parser.add_argument("--setup", action="store_true", help="install missing peers first (needs root for apt)")
    args = parser.parse_args(argv)
    if args.setup:
        from benchmarks.peers_setup import setup_peers

        setup_peers()
    for role, engine in default_peers().items():
        status = engine.available()
        detail = f"{engine.name} | {engine.version}" if status else status.reason
        print(f"{role:20s} {'ok' if status else 'MISSING':8s} {detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
