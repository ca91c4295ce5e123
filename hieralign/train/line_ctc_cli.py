"""`hieralign train line-ocr`: train the CTC line recogniser on a `data lines` dataset.

  hieralign train line-ocr --data data/lines --out runs/line-ocr --max-steps 3500 --batch-size 16

Runs on the one training engine (`hieralign.train.engine.fit`: exact resume, rank-safe time
budget, checkpoint rotation, history). Re-running the same command into the same --out
continues where it stopped. The final model folder (config.json + model.safetensors) is --out.
`--init-from MODEL_DIR` starts from a trained model instead of random weights (fine-tuning on
new data or stronger augmentation); code points its charset lacks get new output units.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from hieralign.train.line_ctc_task import LineCTCTaskConfig

PROG = "hieralign train line-ocr"


def build_parser() -> argparse.ArgumentParser:
    d = LineCTCTaskConfig(data="")
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", "--data-dir", dest="data", required=True, help="dataset folder (train.jsonl, val.jsonl)")
    p.add_argument("--out", "--output-dir", dest="out", default="runs/line-ocr", help="checkpoints + final model folder")
    p.add_argument("--max-steps", type=int, default=3500, help="optimiser steps (the run's budget; not wall time)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="lines per step per process")
    p.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate")
    p.add_argument("--warmup-steps", type=int, default=200, help="linear warm-up steps")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between validation + checkpoint")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop resumably after this wall time (0 = none)")
    p.add_argument("--num-threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.add_argument("--seed", type=int, default=d.seed, help="batch order, init, augmentation")
    p.add_argument("--val-limit", type=int, default=d.val_limit, help="validation lines (greedy CER/WER)")
    p.add_argument("--no-augment", dest="augment", action="store_false", help="turn off batch augmentation")
    p.add_argument("--init-from", default=d.init_from, metavar="MODEL_DIR",
                   help="warm start from a line-OCR model folder (its weights, charset and sizes; "
                        "e.g. the shipped hieralign/assets/models/line-ocr); resuming --out still wins")
    p.add_argument("--lstm-hidden", type=int, default=d.lstm_hidden, help="BiLSTM hidden size per direction")
    p.add_argument("--train-manifest", default="", help="default: <data>/train.jsonl")
    p.add_argument("--val-manifest", default="", help="default: <data>/val.jsonl")
    return p


def parse_config(argv: list[str] | None) -> tuple[LineCTCTaskConfig, dict]:
    a = vars(build_parser().parse_args(argv))
    task_cfg = LineCTCTaskConfig(**{f.name: a[f.name] for f in fields(LineCTCTaskConfig) if f.name in a})
    engine = {k: a[k] for k in ("out", "max_steps", "batch_size", "lr", "warmup_steps", "checkpoint_every",
                                "max_minutes", "num_threads", "seed")}
    return task_cfg, engine


def main(argv: list[str] | None = None) -> int:
    task_cfg, engine_args = parse_config(argv)
    try:
        from hieralign.train.engine import EngineConfig, fit
    except ImportError:
        print(f"{PROG}: error: the training engine (hieralign.train.engine) is not installed in this "
              "checkout; merge the one-engine branch first", file=sys.stderr)
        return 2
    from hieralign.train.line_ctc_task import LineCTCTask

    try:
        task = LineCTCTask(task_cfg)
    except ValueError as exc:  # protocol refusals, empty manifests: one line, before any step
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    result = fit(task, EngineConfig(**engine_args))
    if result.stopped:
        print(f"paused at step {result.global_step} of {result.total_steps}; resume with the same command")
    else:
        print(f"done: {result.global_step} steps; validation {task.selection_metric} {result.best}; "
              f"model: {engine_args['out']}")
    return 0
