"""`hieralign recognize IMG...`: recognise character images, top-k candidates with decompositions.

  hieralign recognize scan/*.png --model runs/higita/best.safetensors --candidates joyo --top-k 5
  hieralign recognize glyphs/ --candidates all --format json > out.json

Images in any common format; grayscale, polarity detection (dark ink on light paper is
inverted), crop to the ink box, fit and centre exactly like the training renderer.
Backends are looked up in BACKENDS ("module:function" returning an object with
`recognize(images, candidates, top_k)`), so other backends plug in without touching this file's logic.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import sys
from typing import Any

from hieralign import defaults

# backend name -> "module:factory"; factory(model_path, device) -> object with .recognize(...)
BACKENDS: dict[str, str] = {
    "torch": "hieralign.models.char.recognizer:CharRecognizer.from_checkpoint",
    "onnx": "hieralign.export.runtime:OnnxCharRecognizer.for_cli",  # --model = a `hieralign export` dir
    "onnx-int8": "hieralign.export.runtime:OnnxCharRecognizer.for_cli_int8",
}
DEFAULT_MODEL_ENV = defaults.CHAR_MODEL_ENV


def load_backend(name: str, model: str, device: str = "cpu") -> Any:
    if name not in BACKENDS:
        raise SystemExit(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    module_name, _, attr = BACKENDS[name].partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target(model, device=device)


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse turns the ValueError into one usage line, exit 2)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign recognize", description=__doc__.split("\n")[0])
    p.add_argument("images", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--model", default=None,
                   help=f"checkpoint file, run directory or ONNX export dir (default: ${DEFAULT_MODEL_ENV}, "
                        "else the model shipped with the package)")
    p.add_argument("--candidates", default="etl9g", help="etl9g | joyo | jis1 | jis2 | gb2312 | all | comma list | FILE")
    p.add_argument("--top-k", type=_positive_int, default=5, help="candidates per image (>= 1)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--backend", choices=sorted(BACKENDS), default="torch")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="cpu")
    return p


def recognize_files(recognizer: Any, paths: list, candidates: str, top_k: int, batch_size: int) -> list[dict]:
    from hieralign.models.char.preprocess import load_gray
    from hieralign.utils.progress import progress

    results = []
    batches = range(0, len(paths), batch_size)
    for start in progress(batches, desc="recognising", disable=True if len(paths) <= batch_size else None):
        chunk = paths[start:start + batch_size]
        tops = recognizer.recognize([load_gray(p) for p in chunk], candidates=candidates, top_k=top_k)
        results += [{"file": str(p), "results": top} for p, top in zip(chunk, tops)]
    return results


def format_results(results: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(results, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["file", "rank", "char", "score", "decomposition"])
        for r in results:
            for rank, c in enumerate(r["results"], 1):
                writer.writerow([r["file"], rank, c["char"], c["score"], c["decomposition"]])
        return buf.getvalue().rstrip("\n")
    lines = []
    for r in results:
        best = "  ".join(f"{c['char']} {c['score']:.3f}" for c in r["results"])
        top = r["results"][0] if r["results"] else {"char": "", "decomposition": ""}
        lines.append(f"{r['file']}\t{best}\t[{top['char']} = {top['decomposition']}]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hieralign.models.char.preprocess import collect_images

    try:
        paths = collect_images(args.images)
    except FileNotFoundError as exc:
        print(f"hieralign recognize: {exc}", file=sys.stderr)
        return 2
    if not paths:
        print("hieralign recognize: no image files found", file=sys.stderr)
        return 2
    try:
        from hieralign.models.char.recognizer import resolve_candidates

        resolve_candidates(args.candidates)  # fail before loading anything on a bad --candidates
        recognizer = load_backend(args.backend, str(defaults.char_model(args.model)), args.device)
        results = recognize_files(recognizer, paths, args.candidates, args.top_k, args.batch_size)
    except (ValueError, FileNotFoundError) as exc:
        print(f"hieralign recognize: {exc}", file=sys.stderr)
        return 2
    print(format_results(results, args.format))
    return 0
