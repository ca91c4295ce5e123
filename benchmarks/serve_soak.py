"""Soak: mixed legal, heavy and bad requests against a loopback server for a while; memory must stay flat.

    python benchmarks/serve_soak.py                   # 10 minutes, tiny model, server started here
    python benchmarks/serve_soak.py --seconds 20      # a smoke run

Every `--sample-s` seconds the server's RSS is sampled (psutil); /healthz latency is probed all
along. Fails (exit 1) on any 5xx other than 503, on /healthz p99 over --healthz-p99-ms, or when the
RSS of the last third exceeds that of the first third by more than --max-growth-mb (a leak; the
first third absorbs warm-up). Writes docs/benchmarks/serve_soak.json.
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
from serve_common import machine, server_process  # noqa: E402


def bodies() -> dict[str, list]:
    """Request kinds: small glyphs, a heavy legal image, distinct candidate lists, bad inputs."""
    from PIL import Image

    from hieralign.knowledge.charsets import charset
    from hieralign.testing import badinput

    heavy = Image.new("L", (2000, 2000), 255)
    heavy.paste(0, (500, 200, 700, 1800))
    buf = io.BytesIO()
    heavy.save(buf, "PNG")
    kanji = charset("jis1")
    return {"glyph": [badinput.glyph_png()], "heavy": [buf.getvalue()],
            "candidates": ["".join(kanji[i * 300:(i + 1) * 300]) for i in range(9)],
            "bad": [b"", b"GIF89a-not-really", badinput.bomb_png()]}


async def soak(url: str, seconds: float, concurrency: int, sample_s: float, pid: int) -> dict:
    import httpx
    import psutil

    kinds = bodies()
    proc = psutil.Process(pid)
    rss: list[tuple[float, float]] = []
    health: list[float] = []
    statuses: dict[str, dict[int, int]] = {}
    deadline = time.monotonic() + seconds

    async def client_loop(client: httpx.AsyncClient, n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            kind = ("glyph", "glyph", "heavy", "candidates", "bad")[i % 5]
            data = {}
            if kind == "candidates":
                data = {"candidates": kinds["candidates"][i % 9]}
                image = kinds["glyph"][0]
            else:
                image = kinds[kind][i % len(kinds[kind])]
            try:
                r = await client.post("/v1/recognize", files={"images": ("x.png", image, "image/png")}, data=data)
                code = r.status_code
            except httpx.HTTPError:
                code = -1
            statuses.setdefault(kind, {}).setdefault(code, 0)
            statuses[kind][code] += 1
            i += concurrency

    async def watch(client: httpx.AsyncClient) -> None:
        last = 0.0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            await client.get("/healthz")
            health.append(time.perf_counter() - start)
            if time.monotonic() - last >= sample_s:
                last = time.monotonic()
                rss.append((round(seconds - (deadline - last), 1), proc.memory_info().rss / 2**20))
            await asyncio.sleep(0.2)

    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await asyncio.gather(watch(client), *(client_loop(client, n) for n in range(concurrency)))
    mb = np.array([m for _, m in rss])
    third = max(1, len(mb) // 3)
    return {"seconds": seconds, "concurrency": concurrency, "statuses": statuses,
            "rss_mb": {"first_third_max": round(float(mb[:third].max()), 1),
                       "last_third_max": round(float(mb[-third:].max()), 1), "max": round(float(mb.max()), 1),
                       "samples": [(t, round(m, 1)) for t, m in rss]},
            "healthz_ms": {"p50": round(float(np.percentile(health, 50)) * 1000, 1),
                           "p99": round(float(np.percentile(health, 99)) * 1000, 1),
                           "max": round(max(health) * 1000, 1), "probes": len(health)}}


def verdict(result: dict, max_growth_mb: float, healthz_p99_ms: float) -> list[str]:
    problems = [f"{kind}: {code} x{n}" for kind, codes in result["statuses"].items() for code, n in codes.items()
                if code >= 500 and code != 503 or code == -1]
    growth = result["rss_mb"]["last_third_max"] - result["rss_mb"]["first_third_max"]
    if growth > max_growth_mb:
        problems.append(f"RSS grew {growth:.0f} MB from the first to the last third (limit {max_growth_mb})")
    if result["healthz_ms"]["p99"] > healthz_p99_ms:
        problems.append(f"/healthz p99 {result['healthz_ms']['p99']} ms > {healthz_p99_ms}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint or export dir (default: the tiny smoke-test model)")
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--sample-s", type=float, default=5.0, help="RSS sampling period")
    p.add_argument("--max-growth-mb", type=float, default=100.0)
    p.add_argument("--healthz-p99-ms", type=float, default=100.0)
    p.add_argument("--server-args", default="")
    p.add_argument("--out", default="docs/benchmarks/serve_soak.json")
    args = p.parse_args(argv)
    with server_process(args.model, args.server_args.split()) as (url, proc):
        result = asyncio.run(soak(url, args.seconds, args.concurrency, min(args.sample_s, args.seconds / 6), proc.pid))
    problems = verdict(result, args.max_growth_mb, args.healthz_p99_ms)
    report = {"machine": machine(), "model": args.model or "tiny", **result, "problems": problems}
    print(json.dumps({k: v for k, v in report.items() if k != "rss_mb"} | {"rss_mb": {
        k: v for k, v in result["rss_mb"].items() if k != "samples"}}, indent=2, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
