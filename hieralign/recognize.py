"""`hieralign recognize IMG...`: recognise character images, top-k candidates with decompositions.

  hieralign recognize scan/*.png --model runs/higita/best.safetensors --candidates joyo --top-k 5
  hieralign recognize glyphs/ --candidates all --format json > out.json

Images in any common format; grayscale, polarity detection (dark ink on light paper is
inverted), crop to the ink box, fit and centre exactly like the training renderer.
Backends are a typed mapping (name -> loader); every backend is the same `ZeroShotClassifier`
core over a different encoder, so scoring never differs between them. `--descriptors` picks what
describes a candidate: its decomposition, reference glyphs rendered in the training fonts, or both
fused (`--glyph-weight` on the glyph cosine).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from hieralign import defaults

if TYPE_CHECKING:
    from hieralign.models.char.zeroshot import ZeroShotClassifier


def _torch(model: str, device: str = "cpu") -> ZeroShotClassifier:
    from hieralign.models.char.recognizer import CharRecognizer

    return CharRecognizer.from_checkpoint(model, device=device)


def _onnx(model: str, device: str = "cpu") -> ZeroShotClassifier:
    from hieralign.export.runtime import OnnxCharRecognizer

    return OnnxCharRecognizer.from_dir(model)  # onnxruntime CPU; `device` accepted for symmetry


def _onnx_int8(model: str, device: str = "cpu") -> ZeroShotClassifier:
    from hieralign.export.runtime import OnnxCharRecognizer

    return OnnxCharRecognizer.from_dir(model, int8=True)


def _auto(model: str, device: str = "cpu") -> ZeroShotClassifier:
    """The fastest backend for `model`: its ONNX export when one exists (the export dir itself, or
    `<checkpoint dir>/onnx/` recording this checkpoint's hash; `export.runtime.find_export`), else
    torch. fp32, never INT8 by default: INT8 changes answers (top-1 agreement below 99.5 %)."""
    from hieralign.export.runtime import find_export

    found = find_export(model) if device == "cpu" else None
    return _onnx(str(found)) if found is not None else _torch(model, device)


# backend name -> loader(model path, device); --model is a checkpoint for torch, an export dir for onnx*
BACKENDS: dict[str, Callable[..., ZeroShotClassifier]] = {"auto": _auto, "torch": _torch, "onnx": _onnx,
                                                          "onnx-int8": _onnx_int8}
DEFAULT_MODEL_ENV = defaults.CHAR_MODEL_ENV


def load_backend(name: str, model: str, device: str = "cpu") -> ZeroShotClassifier:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[name](model, device=device)


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
    p.add_argument("--descriptors", choices=("decomposition", "glyphs", "both"), default="both",
                   help="what describes a candidate: its decomposition, reference glyphs rendered in the "
                        "model's training fonts, or both fused (default: both)")
    p.add_argument("--glyph-weight", type=float, default=None,
                   help="weight of the glyph cosine in the fused score, 0..1 (default: the model's, else 0.8)")
    p.add_argument("--top-k", type=_positive_int, default=5, help="candidates per image (>= 1)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--backend", choices=sorted(BACKENDS), default="auto",
                   help="auto (default): the model's ONNX export when there is one (an export dir, or "
                        "<checkpoint dir>/onnx/ made from this checkpoint), else torch")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="cpu")
    return p


def recognize_files(recognizer: ZeroShotClassifier, paths: list, candidates: str, top_k: int, batch_size: int,
                    descriptors: str = "both", glyph_weight: float | None = None) -> list[dict]:
    from hieralign.utils.progress import progress

    results = []
    batches = range(0, len(paths), batch_size)
    for start in progress(batches, desc="recognising", disable=True if len(paths) <= batch_size else None):
        chunk = paths[start:start + batch_size]
        tops = _recognize_chunk(recognizer, chunk, candidates, top_k, descriptors, glyph_weight)
        results += [{"file": str(p), "results": top} for p, top in zip(chunk, tops)]
    return results


def _recognize_chunk(recognizer, chunk, candidates, top_k, descriptors, glyph_weight) -> list:
    from hieralign.models.char.preprocess import NoInkError, load_gray

    try:
        return recognizer.recognize([load_gray(p) for p in chunk], candidates=candidates, top_k=top_k,
                                    descriptors=descriptors, glyph_weight=glyph_weight)
    except NoInkError as exc:  # name the file, not the batch position
        bad = chunk[exc.index] if exc.index is not None and exc.index < len(chunk) else chunk[0]
        raise NoInkError(f"{bad}: no ink found (blank or all paper); crop one character, dark ink on light paper",
                         exc.index) from exc


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
        results = recognize_files(recognizer, paths, args.candidates, args.top_k, args.batch_size,
                                  args.descriptors, args.glyph_weight)
    except (ValueError, FileNotFoundError) as exc:
        print(f"hieralign recognize: {exc}", file=sys.stderr)
        return 2
    print(format_results(results, args.format))
    return 0
