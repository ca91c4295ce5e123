"""`TrainConfig`: every knob of `hieralign train char`, typed, with the seed's flag names."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class TrainConfig:
    data_dir: str = ""  # glyph store (hieralign data build / import) with the training images
    checkpoint_dir: str = "runs/char"  # where checkpoints, history.json and curves go
    use_higita: bool = False  # Hi-GITA (True) or the HierCode baseline (False), as in the seed
    preset: str = ""  # lite | balanced | full | standard; "" = balanced (Hi-GITA) or standard (HierCode)
    split: str = "etl9g-zs"  # zero-shot protocol (DESIGN.md §4) deciding seen/unseen classes
    seen: int | None = None  # m: train on the first m classes of the protocol (default: the largest m)
    val_classes: int = 100  # seen classes held out (images excluded) for zero-shot validation / `best`
    val_max_images: int = 3000  # validation images evaluated per epoch (a fixed, seeded subset)
    epochs: int = 30  # passes over the training images
    batch_size: int = 256  # images per step per process
    lr: float = 2e-3  # peak AdamW learning rate (after warmup)
    weight_decay: float = 0.05  # AdamW weight decay on matrices and conv kernels
    warmup_steps: int = 300  # linear warmup steps, then cosine decay to 1% of lr
    grad_clip: float = 1.0  # max global gradient norm
    images_per_class: int = 2  # k: batches are built from runs of k images of one class (B/k classes per batch)
    text_classes_per_step: int = 0  # Hi-GITA: pad the batch's classes with random training classes up to this (0 = off)
    loss_weights: str = ""  # Hi-GITA "stroke,radical,character" loss weights; "" = the preset's (0.3,0.5,0.2)
    augment: bool = True  # batch augmentation from hieralign.data.augment (seeded, never flips)
    limit_samples: int = 0  # use at most this many training images (seeded subset; 0 = all)
    seed: int = 0  # seeds data order, augmentation, init and dropout
    keep_last: int = 3  # epoch checkpoints kept (best and the newest are always kept)
    num_threads: int = 0  # torch CPU threads (0 = torch default)
    max_minutes: float = 0.0  # stop (with a resumable checkpoint) after this many minutes; 0 = no limit
    mixed_precision: str = "no"  # no | bf16 | fp16 (accelerate)
    device: str = "auto"  # auto | cpu | cuda
    resume_from: str = ""  # checkpoint (.safetensors / .state.pt) or directory; "" = auto-resume in checkpoint_dir
    max_steps_per_epoch: int = 0  # cap steps per epoch (quick experiments, tests); 0 = full epochs
    log_every: int = 20  # steps between progress-bar metric updates

    def resolved_preset(self) -> str:
        return self.preset or ("balanced" if self.use_higita else "standard")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field_help() -> dict[str, str]:
    """Each field's trailing comment, so `--help` and the dataclass never disagree."""
    import inspect
    import re

    found = re.findall(r"^\s+(\w+): [^=]+=.*?#\s*(.+)$", inspect.getsource(TrainConfig), flags=re.M)
    return {name: text.replace("%", "%%") for name, text in found}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign train char", description="Train HierCode / Hi-GITA on a glyph store.")
    defaults, helps = TrainConfig(), _field_help()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=helps.get(f.name))
            continue
        kind = {"seen": int}.get(f.name, type(default))
        p.add_argument(flag, type=kind, default=default, help=helps.get(f.name))
    return p


def parse_config(argv: list[str] | None) -> TrainConfig:
    args = build_parser().parse_args(argv)
    cfg = TrainConfig(**vars(args))
    if not cfg.data_dir:
        raise SystemExit("hieralign train char: --data-dir is required (a store from `hieralign data build`)")
    return cfg
