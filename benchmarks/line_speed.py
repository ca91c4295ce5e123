"""Line-CLIP speed on this machine: embedding and training throughput, FAISS latency and recall.

    python benchmarks/line_speed.py --model runs/line_clip_small --dataset-dir runs/lines_tibetan

- embedding lines/s: image tower, text tower, and both (a line = its image + its text), on real
  test lines, batch 64, for 1 and 2 torch threads;
- training lines/s: optimisation steps of a freshly built model with the trained model's config;
- FAISS: single-query p50/p95 latency at 10k and 1M synthetic clustered 256-d vectors, exact
  (IndexFlatIP) and approximate (IVF, HNSW), with recall@10 of the approximate index vs exact.
Writes docs/benchmarks/line_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hieralign.data.lines.batches import load_lines, make_batch  # noqa: E402
from hieralign.data.lines.manifest import read_manifest  # noqa: E402
from hieralign.models.line.artifacts import LineEncoder  # noqa: E402


def embedding_speed(encoder: LineEncoder, lines, threads: int, batch: int = 64, repeats: int = 2) -> dict:
    torch.set_num_threads(threads)
    n = len(lines)
    timings = {"image": [], "text": []}
    with torch.no_grad():
        for _ in range(repeats):
            for start in range(0, n, batch):
                b = make_batch(lines, np.arange(start, min(n, start + batch)), encoder.tokenizer, encoder.text_max_length)
                t = time.perf_counter()
                encoder.model.encode_image(b["pixel_values"])
                timings["image"].append(time.perf_counter() - t)
                t = time.perf_counter()
                encoder.model.encode_text(b["input_ids"], b["attention_mask"])
                timings["text"].append(time.perf_counter() - t)
    image_s, text_s = sum(timings["image"]) / repeats, sum(timings["text"]) / repeats
    return {"threads": threads, "lines": n, "image_lines_per_s": n / image_s, "text_lines_per_s": n / text_s,
            "both_lines_per_s": n / (image_s + text_s)}


def training_speed(encoder: LineEncoder, lines, threads: int, batch: int = 32, steps: int = 8) -> dict:
    from hieralign.models.line.clip import LineCLIP
    from hieralign.train.line_clip_task import line_clip_losses

    torch.set_num_threads(threads)
    config = encoder.model.config
    model = LineCLIP(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    durations = []
    for step in range(steps + 2):
        b = make_batch(lines, np.arange(step * batch, (step + 1) * batch) % len(lines), encoder.tokenizer,
                       encoder.text_max_length)
        t = time.perf_counter()
        line_clip_losses(model, b, config.loss)["total"].backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:  # first steps warm up allocators
            durations.append(time.perf_counter() - t)
    return {"threads": threads, "batch": batch, "train_lines_per_s": batch * len(durations) / sum(durations)}


def clustered_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(max(16, n // 100), dim)).astype(np.float32)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        out[start:stop] = centers[rng.integers(0, len(centers), stop - start)]
        out[start:stop] += 0.5 * rng.normal(size=(stop - start, dim)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def faiss_bench(n: int, kinds: list[str], dim: int = 256, queries: int = 200, seed: int = 0) -> list[dict]:
    import faiss

    from hieralign.index.faiss_index import _new_index

    faiss.omp_set_num_threads(1)
    data = clustered_vectors(n, dim, seed)
    rng = np.random.default_rng(seed + 1)
    q = data[rng.choice(n, queries, replace=False)] + 0.05 * rng.normal(size=(queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(dim)
    exact.add(data)
    _, truth = exact.search(q, 10)
    rows = []
    for kind in kinds:
        started = time.perf_counter()
        index = exact if kind == "flat" else _new_index(kind, dim, n)
        if kind != "flat":
            if not index.is_trained:
                index.train(data[rng.choice(n, min(n, 100_000), replace=False)])
            index.add(data)
        build = time.perf_counter() - started
        latencies, hits = [], []
        for i in range(queries):
            t = time.perf_counter()
            _, found = index.search(q[i:i + 1], 10)
            latencies.append(time.perf_counter() - t)
            hits.append(found)
        found = np.concatenate(hits)
        recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
        rows.append({"n": n, "kind": kind, "faiss": type(index).__name__, "build_s": round(build, 1),
                     "p50_ms": 1000 * float(np.percentile(latencies, 50)),
                     "p95_ms": 1000 * float(np.percentile(latencies, 95)), "recall_at_10": recall})
        print(rows[-1], flush=True)
    return rows


def markdown(result: dict) -> str:
    out = ["# Line-CLIP speed", "", "Commands: " + "; ".join(f"`{c}`" for c in [result.get("model_command", ""), *result.get("faiss_commands", [])] if c),
           "", f"Machine: {result['machine']}", "",
           "| threads | image lines/s | text lines/s | both towers lines/s | training lines/s |", "|---|---|---|---|---|"]
    for e, t in zip(result["embedding"], result["training"]):
        out.append(f"| {e['threads']} | {e['image_lines_per_s']:.0f} | {e['text_lines_per_s']:.0f} | "
                   f"{e['both_lines_per_s']:.0f} | {t['train_lines_per_s']:.1f} |")
    out += ["", "| vectors | index | build s | p50 ms | p95 ms | recall@10 vs exact |", "|---|---|---|---|---|---|"]
    for r in result["faiss"]:
        out.append(f"| {r['n']:,} | {r['faiss']} | {r['build_s']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
                   f"{r['recall_at_10']:.3f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    import os
    import platform

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="trained line-CLIP directory (omit to run only the FAISS part)")
    p.add_argument("--dataset-dir", help="dataset with test.jsonl (needed with --model)")
    p.add_argument("--lines", type=int, default=512)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--faiss-sizes", default="10000,1000000", help="'' to skip the FAISS part")
    p.add_argument("--faiss-kinds", default="flat,ivf,hnsw", help="flat is always built (exact ground truth)")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    a = p.parse_args(argv)
    out = Path(a.out)
    previous = out / "line_speed.json"
    # Sections not run this time keep their previous values (model and FAISS parts run separately).
    result = json.loads(previous.read_text()) if previous.is_file() else {"embedding": [], "training": [], "faiss": []}
    command = "python benchmarks/line_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared), "
                         f"load average {os.getloadavg()[0]:.1f} at start")
    if a.model:
        encoder = LineEncoder.from_dir(a.model)
        records = read_manifest(Path(a.dataset_dir) / "test.jsonl", a.dataset_dir).records[:a.lines]
        lines = load_lines(records, a.dataset_dir, encoder.preprocess)
        threads = [int(t) for t in a.threads.split(",")]
        result["embedding"] = [embedding_speed(encoder, lines, t) for t in threads]
        result["training"] = [training_speed(encoder, lines, t) for t in threads]
        result["model_command"] = command
        print(json.dumps(result["embedding"] + result["training"], indent=1))
    if a.faiss_sizes:
        for n in (int(x) for x in a.faiss_sizes.split(",")):
            fresh = faiss_bench(n, a.faiss_kinds.split(","))
            # replace rows of the same (n, kind), keep the others (HNSW at 1M can be run on its own)
            done = {(r["n"], r["kind"]) for r in fresh}
            result["faiss"] = [r for r in result["faiss"] if (r["n"], r["kind"]) not in done] + fresh
            result["faiss"].sort(key=lambda r: (r["n"], ["flat", "ivf", "hnsw"].index(r["kind"])))
            result.setdefault("faiss_commands", [])
            if command not in result["faiss_commands"]:
                result["faiss_commands"].append(command)
            save(out, result)
    save(out, result)
    print(markdown(result))
    return 0


def save(out: Path, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "line_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "line_speed.md").write_text(markdown(result))


if __name__ == "__main__":
    sys.exit(main())
