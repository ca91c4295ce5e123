"""Character speed: per preset (params, FLOPs, tower glyphs/s, training glyphs/s) and per stage of
the shipped recogniser with the peers measured in the same run.

  python benchmarks/char_speed.py pipeline --images 1000 --candidates jis2 --out docs/benchmarks/char_speed.json
  python benchmarks/char_speed.py presets

`pipeline` times the default backend (`recognize --backend auto`: the model's ONNX export when
one sits next to it) stage by stage — preprocess, image tower, candidate matmul (fusion folded
into one matrix), top-k, result rows — then end to end in batches and one glyph at a time, and
runs Tesseract `jpn` (in-process tesserocr when importable) and RapidOCR (when installed) on the
same glyphs, one thread each. Absolute rates depend on what else runs; the ratios to the peers
from the same run, and the load average beside them, are the numbers to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch


def _flops(model, image_size: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model.encode_image(torch.rand(1, 1, image_size, image_size))
    return int(counter.get_total_flops())


def _batched(model, image_size: int, batch: int = 256, repeats: int = 5) -> tuple[float, float]:
    """(glyphs/s wall-clock best of n, glyphs per CPU-second of this process).

    The second number is what the model costs, whatever else runs on the machine: on a shared
    2-core box the wall-clock rate mostly measures the neighbours."""
    x = torch.rand(batch, 1, image_size, image_size)
    with torch.inference_mode():
        model.encode_image(x)
        times, cpu = [], time.process_time()
        for _ in range(repeats):
            start = time.perf_counter()
            model.encode_image(x)
            times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu
    return batch / min(times), batch * repeats / cpu


def _latency_ms(model, image_size: int, repeats: int = 100) -> float:
    x = torch.rand(1, 1, image_size, image_size)
    with torch.inference_mode():
        for _ in range(10):
            model.encode_image(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.encode_image(x)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _train_rate(model, texts, batch: int = 128, steps: int = 4) -> tuple[float, float]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.rand(batch, 1, 64, 64)
    labels = torch.arange(batch) % len(texts)
    classes = torch.arange(len(texts))
    model.train()
    times, cpu = [], 0.0
    for i in range(steps + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = model.loss(images, labels, texts, classes)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
        cpu += (time.process_time() - cpu_start) if i else 0.0
    return batch / min(times[1:]), batch * steps / cpu


def measure_presets(threads: int = 2, presets: tuple[str, ...] = ("lite", "balanced", "full", "standard")) -> dict:
    from hieralign.knowledge import protocols
    from hieralign.models.char import PRESETS, create_model
    from hieralign.models.char.texts import DecompositionTokenizer

    torch.set_num_threads(threads)
    seen, _ = protocols.split("etl9g-zs", 2036)
    out = {}
    for preset in presets:
        if preset not in PRESETS:
            continue
        higita = preset != "standard"
        tok = DecompositionTokenizer.build(seen, "J", higita)
        model = create_model(preset, use_higita_enhancement=higita, ids_vocab_size=tok.vocab_size,
                             codebook_size=tok.codebook_size)
        size = model.config.image.image_size
        texts = tok.encode(seen[100:164] if higita else seen)  # Hi-GITA: ~B/2 classes per step; HierCode: all
        model.eval()
        batched, batched_cpu = _batched(model, size)
        train, train_cpu = _train_rate(model, texts)
        model.eval()
        out[preset] = {
            "params_image": sum(p.numel() for p in model.image_encoder.parameters()),
            "params_text": sum(p.numel() for p in model.text_encoder.parameters()),
            "mflops_per_glyph": round(_flops(model, size) / 1e6, 2),
            "glyphs_per_s_batched": round(batched, 1),
            "glyphs_per_cpu_s_batched": round(batched_cpu, 1),
            "latency_ms_single": round(_latency_ms(model, size), 2),
            "train_glyphs_per_s": round(train, 1),
            "train_glyphs_per_cpu_s": round(train_cpu, 1),
            "threads": threads,
        }
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["load_average_1min"] = round(os.getloadavg()[0], 2)  # how shared the machine was
    return out


def pipeline_glyphs(chars: list[str], count: int, side: int = 96) -> list[np.ndarray]:
    """`count` scan-like glyphs (dark ink on white paper, `side` px, ink box off-centre) of `chars`,
    rendered in one training face: input to time, not to score (decoding is excluded, as targeted)."""
    from hieralign.data.fonts import outlined_chars
    from hieralign.data.render import RenderConfig, render_glyph
    from hieralign.models.char.glyphs import prototype_faces

    face = next(f for f in prototype_faces() if "Gothic" in f.name)
    drawn = outlined_chars(face)
    pool = [c for c in chars if c in drawn] or ["永"]
    cfg = RenderConfig(size=side, margin=side // 6)
    return [255 - render_glyph(face, pool[i % len(pool)], cfg) for i in range(count)]


def _best(fn, repeats: int) -> float:
    """Best wall time of `repeats` calls (the least disturbed by the neighbours)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def stage_profile(rec, glyphs: list[np.ndarray], candidates: str, batch: int, repeats: int,
                  descriptors: str = "both") -> dict:
    """ms per glyph of each stage on one batch, and glyphs/s of the whole batched pipeline."""
    from hieralign.models.char.zeroshot import top_k

    part = glyphs[:batch]
    w = rec.weight(descriptors)
    matrix = rec.candidate_matrix(candidates, descriptors)
    folded = matrix.fused(w)
    x = rec.prepare(part)
    emb = np.ascontiguousarray(rec.encoder.encode_images(x), np.float32)
    scores = emb @ folded.T
    stages = {
        "preprocess": lambda: rec.prepare(part),
        "image_tower": lambda: rec.encoder.encode_images(x),
        "candidate_matmul_fused": lambda: emb @ folded.T,
        "top_k": lambda: top_k(scores, 5),
        "result_rows": lambda: rec.ranked(emb, matrix, 5, w),  # includes its own matmul + top-k
    }
    per = {k: round(1000 * _best(fn, repeats) / len(part), 4) for k, fn in stages.items()}
    total = _best(lambda: [rec.recognize(glyphs[i:i + batch], candidates, 5, descriptors)
                           for i in range(0, len(glyphs), batch)], max(1, repeats // 2))
    return {"ms_per_glyph": per, "batch": len(part), "candidates": len(matrix.chars), "descriptors": descriptors,
            "glyphs_per_s_batched": round(len(glyphs) / total, 1)}


def single_p50_ms(rec, glyphs: list[np.ndarray], candidates: str, calls: int, descriptors: str = "both") -> float:
    rec.recognize(glyphs[:1], candidates, 5, descriptors)
    times = []
    for g in glyphs[:calls]:
        start = time.perf_counter()
        rec.recognize([g], candidates, 5, descriptors)
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 3)


def peer_rates(glyphs: list[np.ndarray], count: int) -> dict:
    """glyphs/s of each available peer (one thread, one glyph per call: how they are used)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.peers_rapidocr import RapidOCRGlyph
    from benchmarks.peers_tesseract import TesseractGlyph

    out = {}
    for engine in (TesseractGlyph("jpn", psm=8), RapidOCRGlyph()):
        status = engine.available()
        if not status:
            out[engine.name] = {"available": False, "why": status.reason}
            continue
        ink = [255 - g for g in glyphs[:count]]  # peers take ink-intensity arrays (0 paper)
        engine.recognize(ink[0])
        start = time.perf_counter()
        for g in ink:
            engine.recognize(g)
        took = time.perf_counter() - start
        out[engine.name] = {"available": True, "version": engine.version, "glyphs": len(ink),
                            "glyphs_per_s": round(len(ink) / took, 1), "ms_per_glyph": round(1000 * took / len(ink), 3)}
    return out


def measure_pipeline(args: argparse.Namespace) -> dict:
    from hieralign import defaults
    from hieralign.models.char.candidates import resolve_candidates
    from hieralign.recognize import load_backend

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    rec = load_backend(args.backend, str(defaults.char_model(args.model)))
    backend = type(rec.encoder).__name__
    glyphs = pipeline_glyphs(resolve_candidates(args.candidates), args.images)
    start = time.perf_counter()
    rec.candidate_matrix(args.candidates, args.descriptors)
    matrix_s = time.perf_counter() - start
    ours = stage_profile(rec, glyphs, args.candidates, args.batch, args.repeats, args.descriptors)
    ours["one_glyph_p50_ms"] = single_p50_ms(rec, glyphs, args.candidates, args.single, args.descriptors)
    peers = peer_rates(glyphs, args.peer_images) if args.peers else {}
    ratios = {name: round(ours["glyphs_per_s_batched"] / p["glyphs_per_s"], 2)
              for name, p in peers.items() if p.get("available")}
    return {"backend": args.backend, "encoder": backend, "threads": args.threads, "images": len(glyphs),
            "candidate_matrix_s": round(matrix_s, 3), "ours": ours, "peers": peers, "ratio_batched_to_peer": ratios,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()], "cpu_count": os.cpu_count(),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def format_table(result: dict) -> str:
    ours = result["ours"]
    lines = [f"{result['encoder']} ({result['backend']}), {ours['candidates']} candidates, {ours['descriptors']}, "
             f"batch {ours['batch']}, {result['threads']} thread(s), load {result['load_average_before']}",
             "| stage | ms / glyph |", "|---|---|"]
    lines += [f"| {k} | {v:.4f} |" for k, v in ours["ms_per_glyph"].items()]
    lines += ["", f"batched end to end: {ours['glyphs_per_s_batched']:.0f} glyphs/s; one glyph p50 "
              f"{ours['one_glyph_p50_ms']:.2f} ms"]
    for name, p in result["peers"].items():
        if p.get("available"):
            lines.append(f"{name}: {p['glyphs_per_s']:.0f} glyphs/s ({p['ms_per_glyph']:.2f} ms) -> ours / peer = "
                         f"{result['ratio_batched_to_peer'][name]}x")
        else:
            lines.append(f"{name}: not available ({p['why']})")
    return "\n".join(lines)


def measure_prototypes(args: argparse.Namespace) -> dict:
    """Seconds to build reference-glyph prototypes for the first `--chars` of a set (no disk cache),
    per worker count, extrapolated to the whole set by renders (the cost is per render)."""
    from hieralign import defaults
    from hieralign.models.char.candidates import resolve_candidates
    from hieralign.models.char.glyphs import _covering, build_prototypes, prototype_faces
    from hieralign.recognize import load_backend

    torch.set_num_threads(args.threads)
    rec = load_backend(args.backend, str(defaults.char_model(args.model)))
    everything = resolve_candidates(args.candidates)
    faces = prototype_faces(rec.encoder.train_families)
    full_renders = sum(len(ks) for ks in _covering(everything, faces))
    step = max(1, len(everything) // args.chars)  # spread over the set: coverage differs by block
    sample = everything[::step][:args.chars]
    out = {"candidates": args.candidates, "set_size": len(everything), "sample_chars": len(sample),
           "faces": len(faces), "renders_full_set": full_renders, "load_average": list(os.getloadavg()), "runs": {}}
    for workers in args.workers:
        start = time.perf_counter()
        _, header = build_prototypes(rec.encoder, sample, faces, workers=workers)
        took = time.perf_counter() - start
        rate = header["renders"] / took
        out["runs"][str(workers)] = {"seconds": round(took, 2), "renders": header["renders"],
                                     "renders_per_s": round(rate, 1),
                                     "full_set_minutes_extrapolated": round(full_renders / rate / 60, 1)}
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("presets", help="per preset: params, FLOPs, tower glyphs/s, training glyphs/s")
    q = sub.add_parser("pipeline", help="the shipped recogniser per stage, with the peers in the same run")
    q.add_argument("--model", default=None, help="checkpoint / export dir (default: the shipped model)")
    q.add_argument("--backend", default="auto", help="auto | torch | onnx | onnx-int8")
    q.add_argument("--candidates", default="jis2")
    q.add_argument("--descriptors", default="both", choices=("decomposition", "glyphs", "both"))
    q.add_argument("--images", type=int, default=1000, help="glyphs for the batched run")
    q.add_argument("--batch", type=int, default=256)
    q.add_argument("--repeats", type=int, default=5, help="best of n per stage")
    q.add_argument("--single", type=int, default=200, help="one-glyph calls for the p50")
    q.add_argument("--threads", type=int, default=2, help="torch threads (ONNX Runtime: one per core)")
    q.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True)
    q.add_argument("--peer-images", type=int, default=200, help="glyphs each peer reads")
    q.add_argument("--out", default=None, help="write the JSON here")
    r = sub.add_parser("prototypes", help="reference-glyph build time per worker count, extrapolated to the set")
    r.add_argument("--model", default=None)
    r.add_argument("--backend", default="auto")
    r.add_argument("--candidates", default="all")
    r.add_argument("--chars", type=int, default=2000, help="characters sampled evenly from the set")
    r.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--out", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd not in ("pipeline", "prototypes"):
        print(json.dumps(measure_presets(), indent=2))
        return 0
    result = measure_pipeline(args) if args.cmd == "pipeline" else measure_prototypes(args)
    print(format_table(result) if args.cmd == "pipeline" else json.dumps(result, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
