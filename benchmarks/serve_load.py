"""Load benchmark: N recognise requests at concurrency C against a loopback server.

    python benchmarks/serve_load.py                      # starts a server with a tiny model
    python benchmarks/serve_load.py --model runs/higita/best.safetensors
    python benchmarks/serve_load.py --url http://127.0.0.1:8000 --token T
    python benchmarks/serve_load.py --model hieralign/assets/models/char-hiercode/model.safetensors \
        --server-args "--candidates jis2" --concurrency 1,16,64   # the shipped model, its ONNX export if any

Prints requests/s, p50/p90/p99 latency and errors; writes docs/benchmarks/serve_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from serve_common import machine, require_loopback, server  # noqa: E402


def payloads(count: int = 32) -> list[bytes]:
    """Dark-on-light PNGs of rendered kanji at various sizes (what a client would upload)."""
    from PIL import Image

    from hieralign.knowledge.charsets import charset
    from hieralign.testing.tiny import render_set

    glyphs, _ = render_set("".join(charset("etl9g")[71:71 + count // 2]), ("IPAGothic", "IPAMincho"))
    out = []
    for i, g in enumerate(glyphs):
        buf = io.BytesIO()
        Image.fromarray(255 - g).resize((64 + 16 * (i % 5),) * 2).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


async def run_load(url: str, total: int, concurrency: int, token: str | None, max_seconds: float,
                   form: dict[str, str] | None = None) -> dict:
    import httpx

    bodies = payloads()
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    deadline = time.monotonic() + max_seconds

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            if time.monotonic() > deadline:
                errors.append("benchmark time limit reached")
                return
            files = {"images": ("g.png", bodies[i % len(bodies)], "image/png")}
            start = time.perf_counter()
            try:
                r = await client.post("/v1/recognize", files=files, data=form or {}, headers=headers)
                ok = r.status_code == 200 and bool(r.json()["results"][0])
                if not ok:
                    errors.append(f"{r.status_code}: {r.text[:100]}")
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
            latencies.append(time.perf_counter() - start)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        await client.post("/v1/recognize", files={"images": ("g.png", bodies[0], "image/png")}, headers=headers)
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    lat = np.asarray(latencies) * 1000
    return {"requests": len(latencies), "concurrency": concurrency, "errors": len(errors),
            "error_examples": errors[:5], "seconds": round(wall, 2),
            "requests_per_s": round(len(latencies) / wall, 1),
            "latency_ms": {q: round(float(np.percentile(lat, p)), 1) for q, p in
                           (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))} if len(lat) else {}}


def prepare_model(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """(model path for `hieralign serve`, extra serve args) from --model/--preset/--backend."""
    import tempfile

    extra = args.server_args.split()
    model = args.model
    if model is None and args.preset:
        from hieralign.testing.tiny import build_untrained_checkpoint

        model = str(build_untrained_checkpoint(Path(tempfile.mkdtemp()) / f"{args.preset}.safetensors", args.preset))
    if model is None:
        from hieralign.testing.tiny import cached_tiny_checkpoint

        model = str(cached_tiny_checkpoint())
        extra += ["--candidates", "model"]
    if args.backend == "auto":  # the server picks: the model's own ONNX export when one sits next to it
        extra += ["--backend", "auto"]
    elif args.backend != "torch" and not Path(model).is_dir():
        from hieralign.export.char_export import CharExportConfig, export_char

        out = tempfile.mkdtemp(prefix="hieralign-export-")
        print(f"exporting {model} to ONNX in {out} ...", file=sys.stderr)
        export_char(CharExportConfig(model=model, out=out, int8=args.backend == "onnx-int8", candidates=["etl9g"],
                                     calibration=128, parity_images=16))
        model = out
    if args.backend == "onnx-int8":
        extra.append("--int8")
    return model, extra


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running loopback server (default: start one)")
    p.add_argument("--model", help="checkpoint or export dir for the started server (default: a tiny model)")
    p.add_argument("--preset", help="without --model: serve an UNTRAINED checkpoint of this preset (speed only)")
    p.add_argument("--backend", choices=("auto", "torch", "onnx", "onnx-int8"), default="auto",
                   help="auto: what `hieralign serve` picks (the model's ONNX export next to it, else torch); "
                        "onnx*: export the model first (into a temp dir) and serve the export")
    p.add_argument("--descriptors", choices=("decomposition", "glyphs", "both"), default=None,
                   help="sent with every request (default: the server's, i.e. both)")
    p.add_argument("--server-args", default="", help="extra `hieralign serve` arguments, e.g. '--workers 2'")
    p.add_argument("--token")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", default="16",
                   help="clients at once; a comma list (e.g. 1,16,64) runs one load per value")
    p.add_argument("--max-seconds", type=float, default=900, help="stop (and count an error) after this long")
    p.add_argument("--out", default="docs/benchmarks/serve_load.json")
    args = p.parse_args(argv)
    model, extra = prepare_model(args)
    info = {"machine": machine(), "model": args.model or (f"untrained {args.preset}" if args.preset else "tiny"),
            "backend": args.backend, "server_args": " ".join(extra)}
    levels = [int(c) for c in str(args.concurrency).split(",")]

    def load_all(url: str) -> list[dict]:
        form = {"descriptors": args.descriptors} if args.descriptors else None
        return [asyncio.run(run_load(url, args.requests, c, args.token, args.max_seconds, form)) for c in levels]

    if args.url:
        results = load_all(require_loopback(args.url))
    else:
        with server(model, extra) as url:
            results = load_all(url)
    result = results[0] if len(results) == 1 else {"errors": sum(r["errors"] for r in results), "runs": results}
    report = {**info, **result}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
