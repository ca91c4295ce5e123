"""`hieralign train line` (alias `train-text-hierarchy-vit --train-mode line_clip`).

Trains the line-CLIP dual encoder on JSONL manifests with the seed's flags; writes the seed's
artifacts, periodic checkpoints (resumable: model, optimizer, scheduler, step, RNG), a
`train_log.jsonl`, and `faiss_embeddings.npy` + `faiss_embeddings_meta.parquet` covering every
manifest given (training and held-out lines, image and text modalities).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from hieralign.lines.data import LineSet, choose_text_max_length, load_lines, truncation_rate
from hieralign.lines.manifest import read_manifest
from hieralign.lines.preprocess import PreprocessConfig

CHECKPOINT_RE = re.compile(r"checkpoint_step_(\d{7})_state\.pt$")


@dataclass
class TrainConfig:
    """Everything a line-CLIP run depends on; saved as training_config.json."""

    output_dir: str  # artifacts, checkpoints, logs
    train_manifest: str  # JSONL of training lines
    dataset_dir: str | None = None  # image paths are relative to this (default: each manifest's folder)
    val_manifest: str | None = None  # held-out JSONL for periodic retrieval validation
    index_manifests: list[str] = field(default_factory=list)  # extra manifests (e.g. test) for faiss_embeddings
    model_name_or_path: str = "small"  # vision tower: tiny|small|hub id|local Dinov2 dir
    text_encoder_name_or_path: str = "small"  # text tower: tiny|small|hub id|local (By)T5 dir
    image_preprocess_pipeline: str = "default"  # none|default|bdrc
    image_height: int = 48  # canvas height (multiple of the patch size)
    image_width: int = 384  # canvas width (multiple of the patch size)
    embed_dim: int = 256  # shared embedding size
    batch_size: int = 64  # per process
    lr: float = 5e-4  # peak AdamW learning rate (5e-5 is right for pretrained towers)
    weight_decay: float = 0.05  # AdamW decoupled weight decay (not on norms/biases/logit scale)
    warmup_steps: int = 200  # linear warm-up, then cosine decay to 0 at the last step
    text_max_length: int = 0  # ByT5 tokens; 0 = 99th percentile of the training texts' byte length
    num_train_epochs: int = 10  # epochs over the training manifest
    max_steps: int = 0  # stop after this many steps (0 = epochs decide); also sets the schedule length
    max_minutes: float = 0.0  # stop (and save) after this wall time (0 = no limit)
    schedule_by_time: bool = False  # cosine follows max(step, elapsed/max_minutes) progress (needs --max-minutes)
    num_workers: int = 0  # accepted for seed compatibility; images are preprocessed once into memory
    num_threads: int = 0  # torch intra-op threads (0 = torch default); 1 is far faster on a busy shared CPU
    mixed_precision: str = "no"  # no|fp16|bf16 (accelerate)
    checkpoint_every_steps: int = 500  # validate + checkpoint interval
    keep_checkpoints: int = 2  # older periodic checkpoints are deleted
    val_max_lines: int = 2000  # validation subset size (evenly spaced lines of the val manifest)
    loss: str = "infonce"  # infonce|siglip
    augment: bool = True  # light in-batch augmentation for training only
    dropout: float = 0.0  # tower dropout (from-scratch configs)
    seed: int = 0  # model init, data order, augmentation
    resume: str = "auto"  # auto (latest checkpoint in output_dir if any) | none | path to a *_state.pt
    strict: bool = False  # error on the first missing/unreadable image instead of counting it
    train_mode: str = "line_clip"  # accepted for seed compatibility (only line_clip exists)

    def preprocess(self) -> PreprocessConfig:
        return PreprocessConfig(self.image_preprocess_pipeline, self.image_height, self.image_width)


def parse_args(argv: list[str] | None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="hieralign train line", description=__doc__)
    p.add_argument("--seed-alias", action="store_true", help=argparse.SUPPRESS)
    defaults = TrainConfig("", "")
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if name in ("output_dir", "train_manifest"):
            p.add_argument(flag, required=True)
        elif name == "index_manifests":
            p.add_argument("--index-manifest", dest=name, action="append", default=[],
                           help="also embed these manifests into faiss_embeddings (repeatable)")
        elif isinstance(value, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            p.add_argument(flag, type=type(value) if value is not None else str, default=value)
    args = vars(p.parse_args(argv))
    args.pop("seed_alias")
    if args["train_mode"] != "line_clip":
        p.error(f"--train-mode {args['train_mode']!r}: only line_clip is implemented by this command")
    return TrainConfig(**args)


def read_lines(manifest: str, cfg: TrainConfig, split: str, limit: int = 0) -> LineSet:
    report = read_manifest(manifest, cfg.dataset_dir, strict=cfg.strict)
    print(f"[{split}] {manifest}: {report.summary()}")
    for problem in (report.missing + report.unreadable)[:5]:
        print(f"  skipped: {problem}")
    records = report.records
    if limit and len(records) > limit:  # evenly spaced, so every document and style is represented
        records = [records[int(i)] for i in np.linspace(0, len(records) - 1, limit)]
    for r in records:
        r.split = r.split or split
    root = cfg.dataset_dir or str(Path(manifest).parent)
    return load_lines(records, root, cfg.preprocess(), desc=f"preprocessing {split}")


def find_checkpoint(cfg: TrainConfig) -> Path | None:
    if cfg.resume == "none":
        return None
    if cfg.resume != "auto":
        path = Path(cfg.resume)
        if not path.is_file():
            raise FileNotFoundError(f"--resume {path}: no such checkpoint state file")
        return path
    found = sorted(p for p in Path(cfg.output_dir).glob("checkpoint_step_*_state.pt") if CHECKPOINT_RE.search(p.name))
    return found[-1] if found else None


def text_length_report(cfg: TrainConfig, texts: list[str]) -> tuple[int, dict]:
    max_length = cfg.text_max_length or choose_text_max_length(texts)
    info = {"text_max_length": max_length, "train_truncation_rate": truncation_rate(texts, max_length),
            "chosen_from_data": not cfg.text_max_length}
    print(f"text max length {max_length} ByT5 tokens; {100 * info['train_truncation_rate']:.2f}% of training texts truncated")
    return max_length, info


def main(argv: list[str] | None = None) -> int:
    from hieralign.lines.train_loop import run_training

    cfg = parse_args(argv)
    started = time.time()
    summary = run_training(cfg)
    summary["wall_minutes"] = round((time.time() - started) / 60, 2)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0

