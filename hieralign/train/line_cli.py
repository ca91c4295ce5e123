"""`hieralign train line` (alias `train-text-hierarchy-vit --train-mode line_clip`).

Trains the line-CLIP dual encoder on JSONL manifests; writes the seed's artifacts, periodic
checkpoints (resumable exactly: re-run the same command), history.json / train_log.jsonl, and
`faiss_embeddings.npy` + `faiss_embeddings_meta.parquet` covering every manifest given.

    hieralign train line --train-manifest data/train.jsonl --val-manifest data/val.jsonl \\
        --data data --out runs/line_clip_small --max-minutes 60

The seed's spellings stay: --output-dir, --dataset-dir, --model-name-or-path, --num-train-epochs,
--checkpoint-every-steps, --keep-checkpoints, --resume auto|none|PATH.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from hieralign.train.engine import EngineConfig
from hieralign.train.line_clip_task import LineClipTaskConfig
from hieralign.utils.argconfig import HelpFormatter, add_dataclass_arguments, build_dataclass

ALIASES = {"out": ["--output-dir"], "data": ["--dataset-dir"], "model": ["--model-name-or-path"],
           "epochs": ["--num-train-epochs"], "checkpoint_every": ["--checkpoint-every-steps"],
           "keep_last": ["--keep-checkpoints"], "resume_from": ["--resume"], "index_manifests": ["--index-manifest"]}
# line-CLIP's defaults where they differ from the engine's.
DEFAULTS = {"out": None, "epochs": 10, "batch_size": 64, "lr": 5e-4, "warmup_steps": 200, "checkpoint_every": 500,
            "keep_last": 2}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign train line", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--seed-alias", action="store_true", help=argparse.SUPPRESS)
    add_dataclass_arguments(p, LineClipTaskConfig, ALIASES, required=("train_manifest",))
    add_dataclass_arguments(p, EngineConfig, ALIASES, DEFAULTS, required=("out",))
    return p


def parse_args(argv: list[str] | None) -> tuple[LineClipTaskConfig, EngineConfig]:
    values = vars(build_parser().parse_args(argv))
    if values["resume_from"] == "auto":  # the seed's spelling of "newest checkpoint in --out"
        values["resume_from"] = ""
    return build_dataclass(LineClipTaskConfig, values), build_dataclass(EngineConfig, values)


def main(argv: list[str] | None = None) -> int:
    from hieralign.train.line_clip_task import train_line_clip

    task_cfg, engine_cfg = parse_args(argv)
    started = time.time()
    try:
        summary = train_line_clip(task_cfg, engine_cfg)
    except ValueError as exc:
        print(f"hieralign train line: error: {exc}", file=sys.stderr)
        return 2
    summary["wall_minutes"] = round((time.time() - started) / 60, 2)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
