"""`hieralign train char`: train HierCode (default) or Hi-GITA (`--use-higita`) on a glyph store.

  hieralign train char --data stores/etl9g-zs-2036 --use-higita --epochs 10 \\
      --out runs/higita-2036 --max-minutes 60

Re-running the same command into the same --out continues where it stopped (from the newest
intact checkpoint). The seed's spellings --data-dir and --checkpoint-dir are accepted.
"""

from __future__ import annotations

import argparse
import sys

from hieralign.train.char_task import CharTaskConfig
from hieralign.train.engine import EngineConfig
from hieralign.utils.argconfig import HelpFormatter, add_dataclass_arguments, build_dataclass

ALIASES = {"data": ["--data-dir"], "out": ["--checkpoint-dir"]}
# The character models' defaults where they differ from the engine's.
DEFAULTS = {"out": "runs/char", "epochs": 30, "batch_size": 256, "lr": 2e-3, "warmup_steps": 300,
            "final_lr_ratio": 0.01, "keep_last": 3}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign train char", description=__doc__, formatter_class=HelpFormatter)
    add_dataclass_arguments(p, CharTaskConfig, ALIASES)
    add_dataclass_arguments(p, EngineConfig, ALIASES, DEFAULTS)
    return p


def parse_config(argv: list[str] | None) -> tuple[CharTaskConfig, EngineConfig]:
    values = vars(build_parser().parse_args(argv))
    return build_dataclass(CharTaskConfig, values), build_dataclass(EngineConfig, values)


def main(argv: list[str] | None = None) -> int:
    task_cfg, engine_cfg = parse_config(argv)
    from hieralign.train.char_task import CharTask
    from hieralign.train.engine import fit

    try:
        task = CharTask(task_cfg, engine_cfg)
    except ValueError as exc:  # a store/model mismatch, a bad flag value: one line, before any step
        print(f"hieralign train char: error: {exc}", file=sys.stderr)
        return 2
    result = fit(task, engine_cfg)
    if result.stopped:
        print(f"paused at step {result.global_step} of {result.total_steps}; resume with the same command "
              f"({engine_cfg.out})")
    else:
        print(f"done: {result.epoch} epochs; best validation top-1 {result.best}; model: {engine_cfg.out}/best.safetensors")
    return 0
