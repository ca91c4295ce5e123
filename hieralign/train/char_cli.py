"""`hieralign train char`: train HierCode (default) or Hi-GITA (`--use-higita`) on a glyph store.

  hieralign train char --data-dir stores/etl9g-zs-2036 --use-higita --epochs 10 \\
      --checkpoint-dir runs/higita-2036 --max-minutes 60

Re-running the same command into the same --checkpoint-dir continues where it stopped.
"""

from __future__ import annotations

from hieralign.train.config import parse_config


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(argv)
    from hieralign.train.trainer import CharTrainer

    trainer = CharTrainer(cfg)
    result = trainer.fit()
    if trainer.acc.is_main_process:
        best = result.get("best_val")
        where = trainer.dir / "best.safetensors"
        print(f"done: {len(result['history'])} epochs; best validation top-1 {best}; model: {where}"
              if not result["stopped"] else f"paused; resume with the same command ({trainer.dir})")
    return 0
