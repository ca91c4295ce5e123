"""`hieralign demo`: the main job end to end on data the registries provide.

1. render a training store: the seen classes of ETL9G-ZS (m = --seen) in the default training
   font families plus synthetic handwriting;
2. render evaluation stores of the 1,000 *unseen* kanji (handwriting drawn with the evaluation
   seed stream; printed in the test-only families that are installed);
3. train a small Hi-GITA model (or HierCode with --model hiercode) for a fixed number of steps
   (--epochs x --steps-per-epoch), never a wall-clock budget: the result does not depend on how
   busy the machine is, so it can be compared with the README's;
4. evaluate it zero-shot on the unseen classes (candidates = the 1,000 unseen kanji);
5. print a results table (also written to <workdir>/demo_results.json).
Before all that, the shipped default model recognises the sample images shipped with the package,
and the shipped line-OCR model transcribes and searches the sample lines of its sample index:
what the product does, in seconds.

Steps whose output already exists are not redone.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hieralign.utils.io import atomic_write_json


@dataclass
class DemoConfig:
    workdir: str = "runs/demo"  # everything the demo writes goes here
    seen: int = 2036  # m of ETL9G-ZS: classes the model trains on (unseen = the last 1,000 kanji)
    hw_per_char: int = 2  # synthetic handwriting images per seen class in the training store
    model: str = "higita"  # higita | hiercode: which model the demo trains
    preset: str = "lite"  # Hi-GITA preset trained by the demo (lite fits a few CPU minutes; ignored for hiercode)
    epochs: int = 8  # epochs of the cosine schedule (it ends at a low learning rate: a finished run)
    steps_per_epoch: int = 60  # optimiser steps per epoch: the fixed training budget (epochs x steps)
    batch_size: int = 256  # training batch size
    eval_per_char: int = 1  # evaluation images per unseen class and style
    seed: int = 0  # seeds rendering, training and evaluation subsets


# Seconds per unit on an idle 2-core machine, for the duration printed before the demo starts
# (lite preset, batch 256), measured by `hieralign demo` on 2026-12-04: data 0.4 min, 480 training
# steps 3.2 min, evaluation + shipped-model steps 0.4 min (4.0 min in all). Recalibrate from
# `make demo` on an idle machine whenever the demo's defaults change.
SECONDS_PER_TRAIN_STEP = 0.4
SECONDS_RENDER_PER_CLASS = 0.008
SECONDS_EVAL = 25.0


def estimate_minutes(cfg: DemoConfig) -> float:
    """Expected wall time on 2 idle cores: rendering, the fixed step budget, evaluation."""
    render = (cfg.seen * cfg.hw_per_char + 1000 * (cfg.eval_per_char + 1)) * SECONDS_RENDER_PER_CLASS / cfg.hw_per_char
    train = cfg.epochs * cfg.steps_per_epoch * SECONDS_PER_TRAIN_STEP * cfg.batch_size / 256
    return (render + train + SECONDS_EVAL) / 60


def _step(title: str) -> float:
    print(f"\n=== {title} ===", flush=True)
    return time.perf_counter()


def _call(module: str, argv: list[str]) -> None:
    import importlib

    print("$ hieralign", _command_name(module), " ".join(argv), flush=True)
    code = importlib.import_module(module).main(argv)
    if code:
        raise SystemExit(f"demo: step {module} failed with exit code {code}")


def _command_name(module: str) -> str:
    from hieralign.cli import COMMANDS

    return next((name for name, (mod, _) in COMMANDS.items() if mod == module), module)


def build_stores(cfg: DemoConfig, wd: Path) -> dict[str, Path]:
    common = ["--charset", "etl9g", "--split", "etl9g-zs", "--seen", str(cfg.seen), "--seed", str(cfg.seed)]
    stores = {"train": wd / "data" / "train", "unseen-handwriting": wd / "data" / "unseen-handwriting"}
    if not (stores["train"] / "meta.json").exists():
        _call("hieralign.data.build", [*common, "--styles", "printed,handwriting", "--hw-per-char",
                                       str(cfg.hw_per_char), "--out", str(stores["train"]), "--overwrite"])
    if not (stores["unseen-handwriting"] / "meta.json").exists():
        _call("hieralign.data.build", [*common, "--role", "eval", "--part", "unseen", "--styles", "handwriting",
                                       "--hw-per-char", str(cfg.eval_per_char),
                                       "--out", str(stores["unseen-handwriting"]), "--overwrite"])
    printed = wd / "data" / "unseen-test-fonts"
    if (printed / "meta.json").exists() or _test_only_fonts_installed():
        if not (printed / "meta.json").exists():
            _call("hieralign.data.build", [*common, "--role", "eval", "--part", "unseen", "--styles", "printed",
                                           "--out", str(printed), "--overwrite"])
        stores["unseen-test-fonts"] = printed
    else:
        print("(no test-only font family installed: `make bench-setup` adds them; printed eval skipped)")
    return stores


def _test_only_fonts_installed() -> bool:
    from hieralign.data.fonts import discover_fonts

    return any(face.role == "test-only" for face in discover_fonts())


def train(cfg: DemoConfig, wd: Path, store: Path) -> Path:
    if cfg.model not in ("higita", "hiercode"):
        raise SystemExit(f"demo: --model must be higita or hiercode, not {cfg.model!r}")
    run = wd / cfg.model
    kind = ["--use-higita", "--preset", cfg.preset] if cfg.model == "higita" else ["--preset", "standard"]
    _call("hieralign.train.char_cli", [
        "--data-dir", str(store), "--checkpoint-dir", str(run), *kind,
        "--seen", str(cfg.seen), "--epochs", str(cfg.epochs), "--batch-size", str(cfg.batch_size),
        "--max-steps-per-epoch", str(cfg.steps_per_epoch), "--seed", str(cfg.seed)])
    return run


def trained_weights(run: Path) -> Path:
    """`best` (validated after an epoch), else the newest weights."""
    best = run / "best.safetensors"
    if best.exists():
        return best
    return run / json.loads((run / "latest.json").read_text())["weights"]


def evaluate(run: Path, stores: dict[str, Path], wd: Path) -> dict[str, Any]:
    results, weights = {}, trained_weights(run)
    for name, store in stores.items():
        if name == "train":
            continue
        out = wd / f"eval-{name}.json"
        _call("hieralign.eval.char_cli", ["--checkpoint", str(weights), "--data-dir", str(store),
                                          "--mode", "zero-shot", "--out", str(out)])
        results[name] = json.loads(out.read_text())
    return results


def recognise_samples() -> list[dict[str, Any]]:
    from hieralign import defaults

    samples = defaults.sample_images()
    try:
        model = defaults.char_model()
    except FileNotFoundError as exc:
        print(f"(skipping samples: {exc})")
        return []
    from hieralign.models.char.preprocess import load_gray, prepare_glyph
    from hieralign.recognize import load_backend

    rec = load_backend("torch", str(model))
    images = [prepare_glyph(load_gray(p)) for p in samples]
    top = rec.recognize(images, candidates="jis2", top_k=5) if images else []
    return [{"file": p.name, "truth": p.name[0], "top5": [c["char"] for c in t]} for p, t in zip(samples, top)]


def line_samples(limit: int = 6) -> dict[str, Any]:
    """The shipped line-OCR model reads sample lines of its shipped index, then a phrase of one of
    them is searched (hybrid: n-grams + CTC rerank). {} with a message when nothing is shipped."""
    from hieralign import defaults

    shipped = defaults.shipped_line_ocr()
    if shipped is None or shipped[1] is None:
        print("(skipping the line step: no line-OCR model with a sample index is shipped in "
              f"{defaults.SHIPPED_LINE_OCR_MODEL}; see docs/LINE_OCR.md to train one)")
        return {}
    from hieralign.index.ocr_search import OcrSearcher
    from hieralign.utils.text_metrics import error_rates

    searcher = OcrSearcher.from_dir(*shipped)
    rows = searcher.rows[:: max(1, len(searcher.rows) // limit)][:limit]
    read = searcher.transcribe([searcher.image_path(r) for r in rows])
    lines = [{"style": r["style"], "face": r.get("face", ""), "reference": r["reference"], "read": x["text"]}
             for r, x in zip(rows, read)]
    cer = error_rates([x["reference"] for x in lines], [x["read"] for x in lines])["cer"]
    phrase = "་".join(lines[0]["reference"].split("་")[:2]) if lines else ""  # its first two syllables
    hits = searcher.search_text(phrase, 3)["lines"] if phrase.strip() else []
    return {"lines": lines, "cer": cer, "query": phrase,
            "hits": [{"text": h["text"], "span": h["span"], "score": h["score"]} for h in hits]}


def _print_lines(result: dict[str, Any]) -> None:
    if not result:
        return
    print(f"shipped line-OCR model on {len(result['lines'])} sample lines: CER {100 * result['cer']:.1f} %")
    for x in result["lines"]:
        print(f"  [{x['style']:<8}] {x['read']}")
    print(f"search {result['query']!r}:")
    for h in result["hits"]:
        s, e = h["span"] or (0, 0)
        print(f"  {h['score'] if h['score'] is not None else '':>9}  {h['text'][:s]}[{h['text'][s:e]}]{h['text'][e:]}")


def print_table(evals: dict[str, Any], samples: list[dict[str, Any]], timings: dict[str, float]) -> None:
    print("\n=== results ===")
    print(f"{'zero-shot eval (unseen kanji)':48} {'images':>7} {'top-1':>7} {'top-5':>7}")
    for name, report in evals.items():
        # the two zero-shot regimes are always reported apart (DESIGN §4)
        regimes = report.get("descriptors") or {"": {"overall": report.get("overall", report)}}
        for regime, result in regimes.items():
            o, label = result["overall"], f"{name} ({regime})" if regime else name
            print(f"{label:48} {o.get('n', 0):>7} {100 * o.get('top1', 0):6.1f}% {100 * o.get('top5', 0):6.1f}%")
    _print_samples(samples)
    print("\n" + "  ".join(f"{k}: {v / 60:.1f} min" for k, v in timings.items()))


def _print_samples(samples: list[dict[str, Any]]) -> None:
    if not samples:
        return
    hits = sum(s["truth"] == s["top5"][0] for s in samples)
    print(f"\nshipped model on {len(samples)} sample images of reserved JIS level-2 kanji: {hits} top-1 correct")
    for s in samples:
        mark = "✓" if s["truth"] == s["top5"][0] else " "
        print(f"  {mark} {s['file']:28} → {' '.join(s['top5'])}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = DemoConfig()
    for name, value in asdict(defaults).items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return p


def main(argv: list[str] | None = None) -> int:
    cfg = DemoConfig(**vars(build_parser().parse_args(argv)))
    wd = Path(cfg.workdir)
    wd.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    steps = cfg.epochs * cfg.steps_per_epoch
    print(f"hieralign demo: about {estimate_minutes(cfg):.0f} min on 2 idle cores (longer on a busy machine; "
          f"the result does not change: training is a fixed {steps} steps)", flush=True)
    t = _step("1/4 the shipped model recognises the shipped sample images")
    samples = recognise_samples()
    timings["samples"] = time.perf_counter() - t
    _print_samples(samples)
    t = _step("1b/4 the shipped line-OCR model transcribes and searches its sample lines")
    lines = line_samples()
    timings["lines"] = time.perf_counter() - t
    _print_lines(lines)
    t = _step("2/4 render glyph stores (fonts + synthetic handwriting)")
    stores = build_stores(cfg, wd)
    timings["data"] = time.perf_counter() - t
    name = f"Hi-GITA ({cfg.preset})" if cfg.model == "higita" else "HierCode"
    t = _step(f"3/4 train {name}: {cfg.epochs} epochs x {cfg.steps_per_epoch} steps of {cfg.batch_size} glyphs")
    run = train(cfg, wd, stores["train"])
    timings["train"] = time.perf_counter() - t
    t = _step("4/4 zero-shot evaluation on the 1,000 unseen kanji")
    evals = evaluate(run, stores, wd)
    timings["eval"] = time.perf_counter() - t
    atomic_write_json(wd / "demo_results.json", {"config": asdict(cfg), "eval": evals, "samples": samples,
                                                 "lines": lines, "seconds": timings})
    print_table(evals, samples, timings)
    print(f"\nwritten: {wd / 'demo_results.json'}")
    return 0
