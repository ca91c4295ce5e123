"""Measure the peers on this machine: glyph top-1 and time, Tibetan line CER and time, matching.

    python benchmarks/peers_measure.py                       # ~5 min on 2 busy cores
    python benchmarks/peers_measure.py --glyphs 50 --lines 5  # quick look

Glyphs: `--glyphs` JIS level-1 kanji drawn by IPA Gothic (a training family) through
`hieralign.data.render.render_glyph` (the framing every benchmark uses), and GB2312 level-1
hanzi drawn by WenQuanYi Micro Hei for chi_sim. Lines: bospell words rendered by
`hieralign.data.lines.synth.render_line` (raqm) in two uchen faces and one dbu-med (cursive) face.
Times are per item, one at a time, warm-up excluded: wall seconds and CPU seconds (this process
plus child processes, so the CLI's process start counts); the load average is recorded
because the machine is shared. Writes docs/benchmarks/peers.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.peers import (  # noqa: E402
    PeerEngine,
    RapidOCRGlyph,
    TesseractGlyph,
    TesseractLine,
    corpus_cer,
    edit_distance_matrix,
)
from hieralign.utils.progress import progress  # noqa: E402

TIBETAN_FACES = {  # face -> style
    "/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf": "print (Tibetan Machine Uni)",
    "/usr/share/fonts/truetype/tibetan/DDC_Uchen.ttf": "print (DDC Uchen)",
    "/usr/share/fonts/truetype/tibetan/Monlam Uni Dutsa1.ttf": "cursive (Monlam Uni Dutsa1)",
}


@dataclass
class MeasureConfig:
    """What to measure and how much of it."""

    glyphs: int = 200  # glyphs per script (JIS-1 for jpn, GB2312-1 for chi_sim)
    cli_glyphs: int = 50  # glyphs for the (slow) Tesseract CLI backend
    lines: int = 20  # Tibetan lines per face
    line_px: int = 32  # font size of the rendered lines (the line synthesiser uses 26-40)
    queries: int = 100  # queries timed against 1,000 candidate texts for edit-distance matching
    seed: int = 0  # sample seed (characters and line texts)
    out: str = "docs/benchmarks/peers.json"  # JSON output path (relative to the repo)


def _cpu_now() -> float:
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


def timed_outputs(engine: PeerEngine, items: list, warmup: int = 3) -> tuple[list[str], float, float]:
    """(outputs, wall s/item, CPU s/item) of `engine.run` over `items`, warm-up excluded."""
    engine.require()
    for item in items[:warmup]:
        engine.run(item)
    wall, cpu = time.perf_counter(), _cpu_now()
    outputs = [engine.run(item) for item in progress(items, desc=engine.name)]
    n = max(1, len(items))
    return outputs, (time.perf_counter() - wall) / n, (_cpu_now() - cpu) / n


def glyph_sample(font_path: str, family: str, charset_name: str, n: int, seed: int):
    """(chars, ink-intensity glyph images) for `n` random characters the face really draws."""
    from hieralign.data.fonts import FontFace, outlined_chars
    from hieralign.data.render import render_glyph
    from hieralign.knowledge.charsets import charset

    face = FontFace(font_path, 0, family, "Regular")
    drawn = outlined_chars(face)
    pool = [c for c in charset(charset_name) if c in drawn]
    rng = np.random.default_rng(seed)
    chars = [pool[i] for i in sorted(rng.choice(len(pool), min(n, len(pool)), replace=False))]
    return chars, [render_glyph(face, c) for c in chars]


def score_glyphs(engine: PeerEngine, chars: list[str], images: list) -> dict:
    if not engine.available():
        return {"engine": engine.name, "skipped": engine.available().reason}
    answers, wall, cpu = timed_outputs(engine, images)
    n = len(chars)
    return {"engine": engine.name, "version": engine.version, "n": n,
            "top1": sum(a == c for a, c in zip(answers, chars)) / n,
            "empty": sum(a == "" for a in answers), "ms_per_glyph": 1000 * wall, "cpu_ms_per_glyph": 1000 * cpu}


def measure_glyphs(cfg: MeasureConfig) -> list[dict]:
    rows = []
    jpn_chars, jpn_images = glyph_sample("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "IPAGothic",
                                         "jis1", cfg.glyphs, cfg.seed)
    for engine in (TesseractGlyph("jpn", psm=8), TesseractGlyph("jpn", psm=13), TesseractGlyph("jpn", psm=10),
                   RapidOCRGlyph()):
        rows.append({"set": "JIS-1 / IPA Gothic", **score_glyphs(engine, jpn_chars, jpn_images)})
    k = cfg.cli_glyphs
    rows.append({"set": "JIS-1 / IPA Gothic", **score_glyphs(TesseractGlyph("jpn", psm=8, backend="cli"),
                                                             jpn_chars[:k], jpn_images[:k])})
    zh_chars, zh_images = glyph_sample("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "WenQuanYi Micro Hei",
                                       "gb2312", cfg.glyphs, cfg.seed)
    for engine in (TesseractGlyph("chi_sim", psm=8), RapidOCRGlyph()):
        rows.append({"set": "GB2312-1 / WQY Micro Hei", **score_glyphs(engine, zh_chars, zh_images)})
    return rows


def measure_lines(cfg: MeasureConfig) -> list[dict]:
    from hieralign.data.lines.synth import render_line
    from hieralign.data.lines.text import bospell_words

    rng = random.Random(cfg.seed)
    words = bospell_words()
    texts = [words.line(rng, 4, 9) for _ in range(cfg.lines)]
    rows = []
    for path, style in TIBETAN_FACES.items():
        if not os.path.isfile(path):
            rows.append({"face": style, "skipped": f"{path} missing (apt-packages-bench.txt)"})
            continue
        images = [render_line(t, path, cfg.line_px) for t in texts]
        engines = (TesseractLine("bod"), TesseractLine("bod", target_height=32),
                   TesseractLine("bod", retry_heights=()), TesseractLine("bod", target_height=32, retry_heights=()),
                   TesseractLine("bod", scale=0.5, retry_heights=()), TesseractLine("bod", scale=1.0, retry_heights=()))
        for engine in engines:
            if not engine.available():
                rows.append({"face": style, "engine": engine.name, "skipped": engine.available().reason})
                continue
            outputs, wall, cpu = timed_outputs(engine, images)
            rows.append({"face": style, "engine": engine.name, "n": len(texts),
                         "mean_height_px": float(np.mean([im.height for im in images])),
                         "cer": corpus_cer(texts, outputs, drop_spaces=True),
                         "ms_per_line": 1000 * wall, "cpu_ms_per_line": 1000 * cpu})
    return rows


def measure_matching(cfg: MeasureConfig) -> dict:
    from hieralign.data.lines.text import bospell_words

    rng = random.Random(cfg.seed + 1)
    words = bospell_words()
    lines = [words.line(rng, 4, 9) for _ in range(1000)]
    out = {"candidates": 1000, "queries_timed": cfg.queries, "mean_line_codepoints": float(np.mean([len(t) for t in lines]))}
    start = time.perf_counter()
    edit_distance_matrix(lines[: cfg.queries], lines)
    per_query = (time.perf_counter() - start) / cfg.queries
    out["rapidfuzz"] = {"ms_per_query": 1000 * per_query, "s_for_1k_x_1k": 1000 * per_query}
    return out


def markdown(results: dict) -> str:
    out = ["| glyph set | engine | top-1 | empty | ms/glyph (wall) | ms/glyph (CPU) |", "|---|---|---|---|---|---|"]
    for r in results["glyphs"]:
        if "skipped" in r:
            out.append(f"| {r['set']} | {r['engine']} | skipped: {r['skipped']} | | | |")
        else:
            out.append(f"| {r['set']} | {r['engine']} | {r['top1']:.3f} (n={r['n']}) | {r['empty']} | "
                       f"{r['ms_per_glyph']:.1f} | {r['cpu_ms_per_glyph']:.1f} |")
    out += ["", "| line face | engine | CER | mean height px | ms/line (wall) | ms/line (CPU) |", "|---|---|---|---|---|---|"]
    for r in results["lines"]:
        if "skipped" in r:
            out.append(f"| {r['face']} | {r.get('engine', '')} | skipped: {r['skipped']} | | | |")
        else:
            out.append(f"| {r['face']} | {r['engine']} | {r['cer']:.3f} (n={r['n']}) | {r['mean_height_px']:.0f} | "
                       f"{r['ms_per_line']:.0f} | {r['cpu_ms_per_line']:.0f} |")
    m = results["matching"]
    for backend in ("rapidfuzz",):
        if backend in m:
            out += ["", f"edit_distance_matrix[{backend}]: {m[backend]['ms_per_query']:.2f} ms per query against "
                    f"{m['candidates']} lines of ~{m['mean_line_codepoints']:.0f} code points "
                    f"(≈ {m[backend]['s_for_1k_x_1k']:.1f} s for 1k × 1k)"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in asdict(MeasureConfig()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    cfg = MeasureConfig(**vars(parser.parse_args(argv)))
    load_before = os.getloadavg()
    results = {"config": asdict(cfg), "cpus": os.cpu_count(), "load_avg_before": load_before,
               "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT", ""),
               "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               "glyphs": measure_glyphs(cfg), "lines": measure_lines(cfg), "matching": measure_matching(cfg)}
    results["load_avg_after"] = os.getloadavg()
    out = Path(__file__).resolve().parents[1] / cfg.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(results))
    print(f"\nload average before {load_before}, after {results['load_avg_after']}; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
