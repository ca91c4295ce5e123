"""`hieralign export --model CKPT_OR_DIR --format onnx [--int8] --out DIR [--candidates etl9g,joyo]`.

A character checkpoint (.safetensors or run dir) exports the character towers and candidate
matrices; a line-CLIP model directory (with line_clip.json) exports the line towers."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign export", description=__doc__)
    p.add_argument("--model", required=True, help="character checkpoint (.safetensors or run dir) or line-CLIP dir")
    p.add_argument("--format", default="onnx", choices=("onnx",), help="export format")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--int8", action="store_true", help="also write an INT8 image tower")
    p.add_argument("--candidates", default="etl9g",
                   help="comma-separated charset names to pre-encode as candidate matrices (default etl9g)")
    p.add_argument("--int8-method", choices=("dynamic", "static"), default="static",
                   help="static (default): QDQ per-channel Conv+MatMul calibrated on training-font renders, depthwise "
                        "convs and the embedding projection kept float, dynamic INT8 as the fallback when it agrees "
                        "better with fp32; dynamic: int8 MatMul/Gemm weights only")
    p.add_argument("--calibration", type=int, default=256,
                   help="glyphs rendered from training fonts for --int8-method static (0 = dynamic)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hieralign.export.char_export import CharExportConfig, export_char
    from hieralign.export.line_export import export_line, is_line_model_dir

    model = Path(args.model)
    if not model.exists():
        print(f"hieralign export: {model}: no such checkpoint file or directory", file=sys.stderr)
        return 2
    if is_line_model_dir(model):
        start = time.perf_counter()
        manifest = export_line(str(model), args.out, int8=args.int8)
        print(json.dumps({"out": args.out, "seconds": round(time.perf_counter() - start, 1),
                          "files": {k: v["bytes"] for k, v in manifest["files"].items()},
                          "parity": manifest["parity"], "int8": manifest.get("int8")}, indent=2))
        return 0
    cfg = CharExportConfig(model=str(model), out=args.out, int8=args.int8,
                           candidates=[c.strip() for c in args.candidates.split(",") if c.strip()],
                           int8_method=args.int8_method, calibration=args.calibration)
    start = time.perf_counter()
    try:
        manifest = export_char(cfg)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"hieralign export: {exc}", file=sys.stderr)
        return 2
    sizes = {name: info["bytes"] for name, info in manifest["files"].items()}
    print(json.dumps({"out": args.out, "seconds": round(time.perf_counter() - start, 1), "files": sizes,
                      "parity": manifest.get("parity"), "int8": manifest.get("int8")}, indent=2, ensure_ascii=False))
    return 0
