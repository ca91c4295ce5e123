"""`LineClipTask`: the line-CLIP dual encoder on JSONL manifests, as a task of the one engine.

Both towers live in one `LineCLIP` module, so the engine's `accelerator.prepare` wraps them
together and DDP averages the gradients of both; features are gathered across ranks with
gradient by the one contrastive core. The line order of an epoch is a pure function of
(seed, epoch): step `s` always sees the same global batch, rank `r` its `r`-th slice, so a
2-process run equals one process on the concatenated batch and resuming is exact.

Outputs (seed layout): the final artefacts (see `models/line/artifacts.py`), per-checkpoint
copies prefixed `checkpoint_step_XXXXXXX_`, and `faiss_embeddings.npy` +
`faiss_embeddings_meta.parquet` covering every manifest given (both modalities).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hieralign.data.lines.batches import (
    LineSet,
    augment,
    choose_text_max_length,
    load_lines,
    make_batch,
    truncation_rate,
)
from hieralign.data.lines.manifest import read_manifest
from hieralign.data.lines.preprocess import PreprocessConfig
from hieralign.eval.retrieval import retrieval_metrics
from hieralign.models.contrastive import contrastive_loss
from hieralign.models.line.artifacts import LineEncoder, save_line_clip
from hieralign.models.line.clip import LineCLIP, LineCLIPConfig, build_tokenizer
from hieralign.train.engine import EngineConfig, FitResult, fit
from hieralign.utils.io import atomic_write_json
from hieralign.utils.seed import seed_everything


@dataclass
class LineClipTaskConfig:
    train_manifest: str = ""  # JSONL of training lines
    data: str | None = None  # image paths are relative to this (default: each manifest's folder)
    val_manifest: str | None = None  # held-out JSONL for retrieval validation at every checkpoint
    index_manifests: list[str] = field(default_factory=list)  # extra manifests (e.g. test) for faiss_embeddings (repeatable)
    model: str = "small"  # vision tower: tiny | small | hub id | local Dinov2 dir
    text_encoder_name_or_path: str = "small"  # text tower: tiny | small | hub id | local (By)T5 dir
    image_preprocess_pipeline: str = "default"  # none | default | bdrc
    image_height: int = 48  # canvas height (multiple of the patch size)
    image_width: int = 384  # canvas width (multiple of the patch size)
    embed_dim: int = 256  # shared embedding size
    text_max_length: int = 0  # ByT5 tokens; 0 = 99th percentile of the training texts' byte length
    val_max_lines: int = 2000  # validation subset size (evenly spaced lines of the val manifest)
    loss: str = "infonce"  # infonce | siglip
    augment: bool = True  # light in-batch augmentation for training only
    dropout: float = 0.0  # tower dropout (from-scratch configs)
    strict: bool = False  # error on the first missing/unreadable image instead of counting it
    num_workers: int = 0  # accepted for seed compatibility; images are preprocessed once into memory
    train_mode: str = "line_clip"  # accepted for seed compatibility (only line_clip exists)

    def preprocess(self) -> PreprocessConfig:
        return PreprocessConfig(self.image_preprocess_pipeline, self.image_height, self.image_width)


def read_lines(manifest: str, cfg: LineClipTaskConfig, split: str, limit: int = 0) -> LineSet:
    """Preprocessed lines of one manifest; skipped rows are counted and the first few named."""
    report = read_manifest(manifest, cfg.data, strict=cfg.strict)
    print(f"[{split}] {manifest}: {report.summary()}")
    for problem in (report.missing + report.unreadable)[:5]:
        print(f"  skipped: {problem}")
    records = report.records
    if limit and len(records) > limit:  # evenly spaced, so every document and style is represented
        records = [records[int(i)] for i in np.linspace(0, len(records) - 1, limit)]
    for r in records:
        r.split = r.split or split
    root = cfg.data or str(Path(manifest).parent)
    return load_lines(records, root, cfg.preprocess(), desc=f"preprocessing {split}")


def line_clip_losses(model: torch.nn.Module, batch: dict[str, torch.Tensor], kind: str) -> dict[str, torch.Tensor]:
    """Forward both towers and the global-batch contrastive loss (lines of equal text are positives)."""
    out = model(batch["pixel_values"], batch["input_ids"], batch["attention_mask"])
    ids = batch["group_ids"]
    loss = contrastive_loss(out["image_embeds"], out["text_embeds"], ids, ids, out["logit_scale"],
                            out.get("logit_bias"), kind=kind)
    return {"total": loss}


class LineClipTask:
    sample_unit = "lines"
    selection_metric = "val_t2i_r1"

    def __init__(self, cfg: LineClipTaskConfig, engine: EngineConfig):
        if not cfg.train_manifest:
            raise ValueError("--train-manifest is required")
        if cfg.train_mode != "line_clip":
            raise ValueError(f"--train-mode {cfg.train_mode!r}: only line_clip is implemented by this command")
        if cfg.loss not in ("infonce", "siglip"):
            raise ValueError(f"unknown --loss {cfg.loss!r}; choose infonce or siglip")
        self.cfg, self.engine = cfg, engine
        self.train = read_lines(cfg.train_manifest, cfg, "train")
        self.val = read_lines(cfg.val_manifest, cfg, "val", cfg.val_max_lines) if cfg.val_manifest else None
        texts = self.train.texts
        self.max_length = cfg.text_max_length or choose_text_max_length(texts)
        self.text_info = {"text_max_length": self.max_length, "chosen_from_data": not cfg.text_max_length,
                          "train_truncation_rate": truncation_rate(texts, self.max_length)}
        print(f"text max length {self.max_length} ByT5 tokens; "
              f"{100 * self.text_info['train_truncation_rate']:.2f}% of training texts truncated")
        self.tokenizer = build_tokenizer(cfg.text_encoder_name_or_path)
        seed_everything(engine.seed)  # the initial weights are a function of the seed
        self.model = LineCLIP(LineCLIPConfig(vision=cfg.model, text=cfg.text_encoder_name_or_path,
                                             embed_dim=cfg.embed_dim, dropout=cfg.dropout, loss=cfg.loss))

    def encoder(self, model: torch.nn.Module) -> LineEncoder:
        return LineEncoder(model, self.tokenizer, self.cfg.preprocess(), self.max_length)  # type: ignore[arg-type]  # the live model is a LineCLIP

    # ---------------------------------------------------------------- engine protocol
    def steps_per_epoch(self, world_size: int) -> int:
        return len(self.train) // (self.engine.batch_size * world_size)

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]:
        order = np.random.default_rng([self.engine.seed, epoch]).permutation(len(self.train))
        b = self.engine.batch_size
        start = step * b * world_size + rank * b
        return make_batch(self.train, order[start:start + b], self.tokenizer, self.max_length)

    def training_forward(self, model: torch.nn.Module, batch: dict[str, torch.Tensor],
                         generator: torch.Generator) -> dict[str, torch.Tensor]:
        if self.cfg.augment:
            pixels = batch["pixel_values"]
            batch = {**batch, "pixel_values": augment(pixels.cpu(), generator).to(pixels.device)}
        return line_clip_losses(model, batch, self.cfg.loss)

    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        if self.val is None:
            return {}
        image, text = self.encoder(model).embed_lines(self.val)
        return {f"val_{k}": v for k, v in retrieval_metrics(image, text, self.val.group_ids).items()}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"model": "line-clip", "config": self.model.config.to_dict(), "tokenizer": "byt5",
                "preprocess": self.cfg.preprocess().to_dict(), "text_max_length": self.max_length,
                "data": {"train_lines": len(self.train), **self.text_info},
                "training": {**asdict(self.cfg), **asdict(self.engine)}}

    def _training_config(self) -> dict[str, Any]:
        return {**asdict(self.cfg), **asdict(self.engine), **self.text_info}

    def write_checkpoint_artifacts(self, model: torch.nn.Module, out_dir: Path, name: str) -> None:
        """The seed's artefacts of this checkpoint, prefixed `<name>_` (rotated with it)."""
        prefix = f"{name}_"
        save_line_clip(model, self.tokenizer, out_dir, self.cfg.preprocess(), self.max_length, prefix=prefix)  # type: ignore[arg-type]
        atomic_write_json(out_dir / f"{prefix}training_config.json", self._training_config())

    def save_model(self, model: torch.nn.Module, out_dir: Path) -> None:
        """Final artefacts + embeddings of every line (train, val, extra manifests; both modalities)."""
        from hieralign.models.line.embeddings import write_embeddings

        save_line_clip(model, self.tokenizer, out_dir, self.cfg.preprocess(), self.max_length,  # type: ignore[arg-type]
                       extra={"training": {"train_lines": len(self.train), **self.text_info}})
        atomic_write_json(out_dir / "training_config.json", self._training_config())
        sets = [self.train] + ([read_lines(self.cfg.val_manifest, self.cfg, "val")] if self.cfg.val_manifest else [])
        sets += [read_lines(m, self.cfg, "test") for m in self.cfg.index_manifests]
        write_embeddings(self.encoder(model), sets, out_dir)


def train_line_clip(cfg: LineClipTaskConfig, engine: EngineConfig) -> dict[str, Any]:
    """Train (or resume) one line-CLIP run; returns its summary."""
    task = LineClipTask(cfg, engine)
    result: FitResult = fit(task, engine)
    return {"step": result.global_step, "total_steps": result.total_steps, "stopped": result.stopped,
            "train_lines": len(task.train), **task.text_info,
            "last_val": result.history[-1] if result.history else None}
