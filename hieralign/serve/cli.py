"""`hieralign serve`: load the models once, then serve the HTTP API and the workbench page."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields

from hieralign.serve.config import TOKEN_ENV, ServeConfig


def build_parser() -> argparse.ArgumentParser:
    d = ServeConfig()
    p = argparse.ArgumentParser(prog="hieralign serve", description=__doc__)
    p.add_argument("--model", dest="char_model", help="character checkpoint (.safetensors) or ONNX export dir")
    p.add_argument("--line-model", help="line-OCR model folder (hybrid search + /v1/transcribe) or line-CLIP "
                   "model dir; default: the shipped line-OCR model (+ its sample index), else the shipped line-CLIP")
    p.add_argument("--index", dest="index_dir", help="line index dir (transcription index for line-OCR, "
                   "embedding index for line-CLIP; hieralign index build)")
    p.add_argument("--line-root", help="dataset dir that relative line-image paths in the index start from")
    p.add_argument("--host", default=d.host, help="bind address (default loopback; others need a token)")
    p.add_argument("--port", type=int, default=d.port)
    p.add_argument("--token", help=f"API token (or env {TOKEN_ENV}); clients send `Authorization: Bearer T`")
    p.add_argument("--max-body-mb", type=float, default=d.max_body_mb, help="request body limit")
    p.add_argument("--max-image-pixels", type=int, default=d.max_image_pixels, help="width*height limit per image")
    p.add_argument("--max-image-side", type=int, default=d.max_image_side, help="longest-side limit per image")
    p.add_argument("--max-images", type=int, default=d.max_images, help="images per recognise request")
    p.add_argument("--max-request-pixels", type=int, default=d.max_request_pixels,
                   help="sum of width*height over one request's images (checked from headers before decoding)")
    p.add_argument("--max-pixels-in-flight", type=int, default=d.max_pixels_in_flight,
                   help="decoded pixels all requests may hold at once; past it 503 + Retry-After")
    p.add_argument("--max-in-flight", type=int, default=d.max_in_flight,
                   help="model requests served at once; past it 503 + Retry-After")
    p.add_argument("--max-candidates", type=int, default=d.max_candidates,
                   help="characters in a request's explicit candidate list")
    p.add_argument("--candidate-cache-mb", type=float, default=d.candidate_cache_mb,
                   help="memory for cached candidate embedding matrices (least recently used dropped)")
    p.add_argument("--max-text-chars", type=int, default=d.max_text_chars, help="characters per text query")
    p.add_argument("--max-top-k", type=int, default=d.max_top_k)
    p.add_argument("--workers", type=int, default=d.workers, help="inference calls running at once")
    p.add_argument("--batch-wait-ms", type=float, default=d.batch_wait_ms,
                   help="merge concurrent recognise requests arriving within this window (0 = off)")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="images per merged model call")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default=d.backend,
                   help="character backend (auto: an ONNX export dir, or the checkpoint's own export in <its dir>/onnx/, else torch)")
    p.add_argument("--candidates", default=d.candidates,
                   help="default candidate set when a request names none (charset name, or 'model')")
    p.add_argument("--int8", action="store_true", help="use the INT8 image tower of an ONNX export")
    p.add_argument("--log-level", default=d.log_level)
    p.add_argument("--no-default-models", action="store_true",
                   help="do not fall back to the models shipped in the package when --model/--line-model are left out")
    return p


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    names = {f.name for f in fields(ServeConfig)}
    cfg = ServeConfig(**{k: v for k, v in vars(args).items() if k in names})
    return cfg if args.no_default_models else with_shipped_models(cfg)


def with_shipped_models(cfg: ServeConfig) -> ServeConfig:
    """Fill the models the command line left out with the ones shipped in the package."""
    from hieralign import defaults

    if cfg.char_model is None:
        try:
            cfg.char_model = str(defaults.char_model())
        except FileNotFoundError:
            if os.environ.get(defaults.CHAR_MODEL_ENV):  # set to a missing path: say so, never fall back
                raise
    shipped_ocr = defaults.shipped_line_ocr()
    if cfg.line_model is None and shipped_ocr is not None and not os.environ.get(defaults.LINE_MODEL_ENV):
        cfg.line_model = str(shipped_ocr[0])
        cfg.index_dir = cfg.index_dir or _str_or_none(shipped_ocr[1])
    if cfg.line_model is None and (chosen := defaults.line_model()) is not None:
        cfg.line_model = str(chosen)
        cfg.index_dir = cfg.index_dir or _str_or_none(defaults.line_index(chosen))
        cfg.line_root = cfg.line_root or _str_or_none(defaults.line_root(chosen))
    return cfg


def _str_or_none(path) -> str | None:
    return None if path is None else str(path)


def build_app(cfg: ServeConfig):
    """Load the configured models (each optional) and build the app."""
    from hieralign.serve.app import create_app
    from hieralign.serve.backends import CharService, LineService

    char = line = None
    if cfg.char_model:
        start = time.perf_counter()
        char = CharService.load(cfg.char_model, backend=cfg.backend, int8=cfg.int8,
                                candidates=cfg.candidates)
        print(f"character model {char.name} ({char.backend}) loaded in {time.perf_counter() - start:.1f}s",
              file=sys.stderr)
    if cfg.line_model:
        from hieralign.index.ocr_index import is_ctc_model
        from hieralign.serve.line_ocr import OcrLineService

        start = time.perf_counter()
        kind = OcrLineService if is_ctc_model(cfg.line_model) else LineService
        line = kind.load(cfg.line_model, cfg.index_dir, cfg.line_root)
        print(f"line model ({line.card().get('kind')}) + index loaded in {time.perf_counter() - start:.1f}s",
              file=sys.stderr)
    if char is None and line is None:
        print("warning: no --model and no --line-model: every model endpoint will answer 503", file=sys.stderr)
    return create_app(cfg, char, line)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        cfg.check_bind()
        app = build_app(cfg)
    except (ValueError, FileNotFoundError) as exc:
        print(f"hieralign serve: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    print(f"workbench: http://{cfg.host}:{cfg.port}/   API docs: http://{cfg.host}:{cfg.port}/docs", file=sys.stderr)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level, timeout_keep_alive=5)
    return 0
