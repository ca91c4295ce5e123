"""Why the peers' defaults are what they are: small sweeps over Tesseract's input framing.

    python benchmarks/peers_sweep.py            # ~4 min on 2 busy cores

1. Glyphs (JIS-1 kanji in IPA Gothic, 64 px, `render_glyph`): paper frame 4/8/16/32 px and
   psm 8/13/10 for Tesseract `jpn`, and the frame for RapidOCR.
2. Tibetan lines (bospell words, Tibetan Machine Uni and DDC Uchen at 24-64 px): resize to a
   fixed height 24/32/48/64 px (or keep the size) with psm 7 (single line) and 13 (raw line),
   and the retry of empty readings at other heights that `TesseractLine` does by default.
Writes docs/benchmarks/peers_sweep.json and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.peers import RapidOCRGlyph, TesseractGlyph, TesseractLine, cer  # noqa: E402
from benchmarks.peers_measure import TIBETAN_FACES, glyph_sample  # noqa: E402


def sweep_glyphs(n: int, seed: int) -> list[dict]:
    chars, images = glyph_sample("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "IPAGothic", "jis1", n, seed)
    rows = []
    engines = [(f"tesseract jpn psm{psm}", pad, TesseractGlyph("jpn", psm=psm, pad=pad))
               for psm in (8, 13, 10) for pad in (4, 8, 16, 32)]
    engines += [("rapidocr", pad, RapidOCRGlyph(pad=pad)) for pad in (0, 8, 16)]
    for label, pad, engine in engines:
        if not engine.available():
            continue
        answers = [engine.recognize(img) for img in images]
        top1 = sum(a == c for a, c in zip(answers, chars)) / len(chars)
        rows.append({"engine": label, "pad": pad, "n": len(chars), "top1": top1})
        print(f"glyphs | {label:22s} | pad {pad:2d} | top-1 {top1:.3f}", flush=True)
    return rows


def sweep_lines(n: int, seed: int) -> list[dict]:
    from hieralign.data.lines.synth import render_line
    from hieralign.data.lines.text import bospell_words

    rng = random.Random(seed)
    words = bospell_words()
    texts = [words.line(rng, 4, 9) for _ in range(n)]
    uchen = [p for p, style in TIBETAN_FACES.items() if style.startswith("print")]
    sets = {(Path(p).stem, px): [render_line(t, p, px) for t in texts] for p in uchen for px in (24, 32, 48, 64)}
    variants = [(height, psm, ()) for height in (24, 32, 48, 64, None) for psm in (7, 13)]
    variants += [(32, 7, (48, 64)), (48, 7, (32, 64))]  # an empty reading retried at other heights
    rows = []
    for height, psm, retry in variants:
        size = {"target_height": height} if height else {"scale": 1.0}
        engine = TesseractLine("bod", psm=psm, retry_heights=retry, **size)
        if not engine.available():
            return rows
        per_set = {f"{face}@{px}px": cer_mean(engine, images, texts) for (face, px), images in sets.items()}
        worst = max(per_set.values())
        rows.append({"engine": engine.name, "target_height": height, "psm": psm, "retry_heights": list(retry),
                     "mean_cer": float(np.mean(list(per_set.values()))), "worst_cer": worst, "per_set": per_set})
        print(f"lines | {engine.name:45s} | mean CER {rows[-1]['mean_cer']:.3f} | worst {worst:.3f}", flush=True)
    return rows


def cer_mean(engine: TesseractLine, images: list, texts: list[str]) -> float:
    return float(np.mean([cer(t, engine.read(im), drop_spaces=True) for im, t in zip(images, texts)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glyphs", type=int, default=200, help="JIS-1 glyphs per setting")
    parser.add_argument("--lines", type=int, default=12, help="Tibetan lines per face and size")
    parser.add_argument("--seed", type=int, default=1, help="sample seed (peers_measure uses 0)")
    parser.add_argument("--out", default="docs/benchmarks/peers_sweep.json")
    parser.add_argument("--skip-glyphs", action="store_true", help="only the line sweep")
    args = parser.parse_args(argv)
    results = {"args": vars(args), "glyphs": [] if args.skip_glyphs else sweep_glyphs(args.glyphs, args.seed),
               "lines": sweep_lines(args.lines, args.seed)}
    out = Path(__file__).resolve().parents[1] / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
