"""ETL9G-ZS zero-shot benchmark: HierCode vs Hi-GITA, peers, and speed (not a unit test).

For each m (seen classes) and model: build the stores with `hieralign data build` (training:
seen classes, training font families + synthetic handwriting; evaluation: the 1,000 unseen
kanji in the test-only font families + synthetic handwriting), train with a wall-clock budget,
evaluate zero-shot on the unseen classes (top-1/top-5 per style), then measure speed per preset
and run the peers (Tesseract jpn, RapidOCR recognition-only; both know these classes: not
zero-shot). Writes docs/benchmarks/char_zeroshot.{json,md,png}.

  python benchmarks/char_zeroshot.py --m 2036 --models higita,hiercode --minutes-per-model 60
  python benchmarks/char_zeroshot.py --stages speed,peers        # no training
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from char_peers import run_peers  # noqa: E402
from char_speed import measure_presets  # noqa: E402

from hieralign.utils.io import atomic_write_json  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--m", default="2036", help="comma list of m in {500,1000,1500,2036}")
    p.add_argument("--models", default="higita,hiercode", help="comma list: higita, hiercode")
    p.add_argument("--preset", default="lite", help="Hi-GITA preset (HierCode uses `standard`-style baseline)")
    p.add_argument("--minutes-per-model", type=float, default=60.0, help="training wall-clock budget per model")
    p.add_argument("--epochs", type=int, default=0, help="epochs per model (0: estimate from the budget)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--hw-train", type=int, default=8, help="synthetic handwriting samples per seen char")
    p.add_argument("--hw-eval", type=int, default=4, help="synthetic handwriting samples per unseen char")
    p.add_argument("--eval-limit", type=int, default=0, help="evaluate at most this many images (0 = all)")
    p.add_argument("--stages", default="build,train,eval,speed,peers")
    p.add_argument("--peer-limit", type=int, default=300, help="images per style given to each peer")
    p.add_argument("--work-dir", default="runs/bench_char")
    p.add_argument("--out-dir", default=str(ROOT / "docs" / "benchmarks"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parallel", action="store_true",
                   help="train the models of one m at the same time, threads split between them")
    return p.parse_args(argv)


def hieralign(*args: str, log: Path | None = None) -> dict:
    """Run a hieralign command in a child process; returns wall seconds and peak RSS (MiB)."""
    import psutil

    env = {**os.environ, "HIERALIGN_NO_PROGRESS": "1"}
    out = open(log, "a") if log else subprocess.DEVNULL
    start, peak = time.time(), 0
    proc = psutil.Popen([sys.executable, "-m", "hieralign.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(1.0)
    if proc.returncode:
        raise RuntimeError(f"hieralign {' '.join(args)} failed ({proc.returncode}); see {log}")
    return {"seconds": round(time.time() - start, 1), "peak_rss_mib": round(peak / 2**20, 1)}


def build_stores(args, ms: list[int], work: Path) -> dict:
    info = {}
    eval_store = work / "eval_unseen"
    if not (eval_store / "meta.json").exists():
        info["eval"] = hieralign("data", "build", "--role", "eval", "--part", "unseen", "--seen", str(max(ms)),
                                 "--styles", "printed,handwriting", "--hw-per-char", str(args.hw_eval),
                                 "--out", str(eval_store), "--overwrite", log=work / "build.log")
    for m in ms:
        store = work / f"train_m{m}"
        if not (store / "meta.json").exists():
            info[f"train_m{m}"] = hieralign("data", "build", "--role", "train", "--part", "seen", "--seen", str(m),
                                            "--styles", "printed,handwriting", "--hw-per-char", str(args.hw_train),
                                            "--out", str(store), "--overwrite", log=work / "build.log")
    return info


def estimate_epochs(args, store: Path, model: str, work: Path) -> int:
    """Epochs that fit the budget, from a 12-step probe run's glyphs/s."""
    if args.epochs:
        return args.epochs
    probe = work / f"probe_{model}_{store.name}"
    flags = ["--use-higita", "--preset", args.preset] if model == "higita" else []
    hieralign("train", "char", "--data-dir", str(store), "--checkpoint-dir", str(probe), *flags, "--epochs", "1",
              "--max-steps-per-epoch", "12", "--val-classes", "0", "--num-threads", str(args.threads),
              "--batch-size", str(args.batch_size), log=work / "train.log")
    rate = json.loads((probe / "history.json").read_text())[0]["glyphs_per_s"]
    n = _train_images(probe)
    return max(1, int(args.minutes_per_model * 60 * rate * 0.85 / n))


def _train_images(run: Path) -> int:
    from hieralign.utils.checkpoint import read_meta

    return int(read_meta(run / "epoch_001.safetensors")["data"]["train_images"])


def train_and_eval(args, m: int, model: str, work: Path, stages: set[str]) -> dict:
    store, run = work / f"train_m{m}", work / f"{model}_m{m}"
    row: dict = {"m": m, "model": model}
    if "train" in stages:
        epochs = estimate_epochs(args, store, model, work)
        flags = ["--use-higita", "--preset", args.preset] if model == "higita" else []
        row["train"] = hieralign("train", "char", "--data-dir", str(store), "--checkpoint-dir", str(run), *flags,
                                 "--seen", str(m), "--epochs", str(epochs), "--batch-size", str(args.batch_size),
                                 "--num-threads", str(args.threads), "--max-minutes", str(args.minutes_per_model),
                                 log=work / "train.log")
        row["train"]["epochs_planned"] = epochs
        history = json.loads((run / "history.json").read_text()) if (run / "history.json").exists() else []
        row["history"] = history
    if "eval" in stages and (run / "best.safetensors").exists():
        report_path = work / f"report_{model}_m{m}.json"
        extra = ["--limit", str(args.eval_limit)] if args.eval_limit else []
        hieralign("eval", "char", "--checkpoint", str(run / "best.safetensors"), "--data-dir", str(work / "eval_unseen"),
                  "--split", "etl9g-zs", "--seen", str(m), "--out", str(report_path), *extra, log=work / "eval.log")
        report = json.loads(report_path.read_text())
        row["eval"] = {"overall": report["overall"], "by_style": report["by_style"],
                       "glyphs_per_s": report["glyphs_per_s"], "zero_shot": report["zero_shot"]}
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    ms = [int(x) for x in args.m.split(",")]
    stages = set(args.stages.split(","))
    work, out_dir = Path(args.work_dir), Path(args.out_dir)
    work.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "char_zeroshot.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results.setdefault("runs", {})
    results["machine"] = {"cpu_count": os.cpu_count(), "threads": args.threads}
    if "build" in stages:
        results["build"] = build_stores(args, ms, work)
    models = args.models.split(",")
    for m in ms:
        if not stages & {"train", "eval"}:
            break
        if args.parallel:
            from concurrent.futures import ThreadPoolExecutor

            sub = argparse.Namespace(**{**vars(args), "threads": max(1, args.threads // len(models))})
            with ThreadPoolExecutor(len(models)) as pool:
                n = len(models)
                rows = list(pool.map(train_and_eval, [sub] * n, [m] * n, models, [work] * n, [stages] * n))
        else:
            rows = [train_and_eval(args, m, model, work, stages) for model in models]
        for model, row in zip(models, rows):
            results["runs"][f"{model}_m{m}"] = row
        atomic_write_json(results_path, results)
    if "speed" in stages:
        results["speed"] = measure_presets(args.threads)
    if "speed1" in stages:  # one thread: CPU time is then the model's own cost even on a busy machine
        results["speed_1thread"] = measure_presets(1, ("lite", "balanced", "standard"))
    if "peers" in stages and (work / "eval_unseen" / "meta.json").exists():
        results["peers"] = run_peers(work / "eval_unseen", args.peer_limit)
    atomic_write_json(results_path, results)
    from char_report import write_report

    write_report(results, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
