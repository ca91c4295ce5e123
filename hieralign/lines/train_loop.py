"""Wiring of one line-CLIP run: data, model, accelerate, resume, validation, checkpoints."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from hieralign.lines.artifacts import save_line_clip
from hieralign.lines.data import LineSet
from hieralign.lines.model import LineCLIP, LineCLIPConfig, build_tokenizer
from hieralign.lines.train_cli import TrainConfig, find_checkpoint, read_lines, text_length_report
from hieralign.lines.trainer import (
    epoch_order,
    make_accelerator,
    param_groups,
    rank_slice,
    steps_per_epoch,
    train_step,
    training_batch,
    validate,
    warmup_cosine,
)
from hieralign.utils.checkpoint import load_state, save_state
from hieralign.utils.io import atomic_write_json
from hieralign.utils.progress import progress
from hieralign.utils.seed import rng_state, seed_everything, set_rng_state


def build_model(cfg: TrainConfig) -> LineCLIP:
    return LineCLIP(LineCLIPConfig(vision=cfg.model_name_or_path, text=cfg.text_encoder_name_or_path,
                                   embed_dim=cfg.embed_dim, dropout=cfg.dropout, loss=cfg.loss))


class Run:
    """State of one training run (kept in one object so the loop functions stay short)."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        self.accelerator = make_accelerator(cfg.mixed_precision)
        seed_everything(cfg.seed)
        self.train = read_lines(cfg.train_manifest, cfg, "train")
        if len(self.train) < cfg.batch_size * self.accelerator.num_processes:
            raise SystemExit(f"{cfg.train_manifest}: {len(self.train)} usable lines, fewer than one global batch "
                             f"({cfg.batch_size} x {self.accelerator.num_processes}); lower --batch-size")
        self.val = read_lines(cfg.val_manifest, cfg, "val", cfg.val_max_lines) if cfg.val_manifest else None
        self.max_length, self.text_info = text_length_report(cfg, self.train.texts)
        self.tokenizer = build_tokenizer(cfg.text_encoder_name_or_path)
        world = self.accelerator.num_processes
        self.steps_per_epoch = steps_per_epoch(len(self.train), cfg.batch_size, world)
        self.total_steps = cfg.max_steps or self.steps_per_epoch * cfg.num_train_epochs
        model = build_model(cfg)
        optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)
        self.clock_started = time.time()
        budget = self.time_fraction if cfg.schedule_by_time and cfg.max_minutes else None
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(cfg.warmup_steps, self.total_steps, budget))
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(model, optimizer, scheduler)
        self.step, self.history = 0, []
        self.aug_generator = torch.Generator().manual_seed(cfg.seed * 7919 + self.accelerator.process_index)

    def time_fraction(self) -> float:
        return (time.time() - self.clock_started) / (60.0 * self.cfg.max_minutes)

    @property
    def unwrapped(self) -> LineCLIP:
        return self.accelerator.unwrap_model(self.model)

    def log(self, record: dict) -> None:
        if self.accelerator.is_main_process:
            with open(self.out / "train_log.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")


def save_checkpoint(run: Run) -> None:
    """Seed-style artifacts with a step prefix + a resumable state file; keeps the last N."""
    if run.accelerator.is_main_process:
        prefix = f"checkpoint_step_{run.step:07d}_"
        save_line_clip(run.unwrapped, run.tokenizer, run.out, run.cfg.preprocess(), run.max_length, prefix=prefix)
        atomic_write_json(run.out / f"{prefix}training_config.json", asdict(run.cfg))
        state = {"step": run.step, "model": run.unwrapped.state_dict(), "optimizer": run.optimizer.state_dict(),
                 "scheduler": run.scheduler.state_dict(), "rng": rng_state(),
                 "aug_generator": run.aug_generator.get_state(), "history": json.dumps(run.history)}
        save_state(run.out / f"{prefix}state.pt", state)
        prune_checkpoints(run.out, run.cfg.keep_checkpoints)
    run.accelerator.wait_for_everyone()


def prune_checkpoints(out: Path, keep: int) -> None:
    import shutil

    steps = sorted({p.name[:len("checkpoint_step_0000000")] for p in out.glob("checkpoint_step_*_state.pt")})
    for old in steps[:-keep] if keep > 0 else []:
        for path in out.glob(old + "_*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def restore(run: Run, path: Path) -> None:
    state = load_state(path)
    run.unwrapped.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    run.aug_generator.set_state(state["aug_generator"])
    run.step = int(state["step"])
    run.history = json.loads(state["history"])
    print(f"resumed from {path} at step {run.step}")


def maybe_validate(run: Run) -> dict:
    if run.val is None:
        return {}
    metrics = {}
    if run.accelerator.is_main_process:
        metrics = validate(run.unwrapped, run.val, run.tokenizer, run.max_length, run.accelerator.device)
        run.history.append({"step": run.step, **metrics})
        run.log({"step": run.step, "val": metrics})
    run.accelerator.wait_for_everyone()
    return metrics


def out_of_time(run: Run, started: float) -> bool:
    minutes = run.cfg.max_minutes
    over = torch.tensor(float(bool(minutes) and (time.time() - started) / 60 >= minutes))
    # Ranks must agree, or one would wait forever in the next all_gather.
    return bool(run.accelerator.reduce(over.to(run.accelerator.device), reduction="sum") > 0)


def train_loop(run: Run, started: float) -> None:
    cfg, acc = run.cfg, run.accelerator
    bar = progress(total=run.total_steps, initial=run.step, desc="train line-CLIP", disable=None if acc.is_main_process else True)
    postfix: dict = {}
    while run.step < run.total_steps:
        epoch, in_epoch = divmod(run.step, run.steps_per_epoch)
        order = epoch_order(len(run.train), cfg.seed, epoch)
        indices = rank_slice(order, in_epoch, cfg.batch_size, acc.process_index, acc.num_processes)
        batch = training_batch(run.train, indices, run.tokenizer, run.max_length, acc.device,
                               run.aug_generator if cfg.augment else None)
        result = train_step(acc, run.model, run.optimizer, run.scheduler, batch, cfg.loss)
        run.step += 1
        postfix.update(loss=f"{result.loss:.3f}", i2t=f"{result.i2t:.2f}", t2i=f"{result.t2i:.2f}")
        if run.step % 10 == 0:
            run.log({"step": run.step, "epoch": epoch, "loss": result.loss, "i2t": result.i2t, "t2i": result.t2i,
                     "lr": run.scheduler.get_last_lr()[0], "logit_scale": float(run.unwrapped.scale())})
        stop = out_of_time(run, started)
        if run.step % cfg.checkpoint_every_steps == 0 or stop or run.step == run.total_steps:
            metrics = maybe_validate(run)
            if metrics:
                postfix.update({"vi2t@1": f"{metrics['i2t_r1']:.3f}", "vt2i@1": f"{metrics['t2i_r1']:.3f}"})
            save_checkpoint(run)
        bar.set_postfix(postfix)
        bar.update(1)
        if stop:
            print(f"stopping at step {run.step}: --max-minutes {cfg.max_minutes} reached")
            break
    bar.close()


def run_training(cfg: TrainConfig) -> dict:
    run = Run(cfg)
    run.out.mkdir(parents=True, exist_ok=True)
    checkpoint = find_checkpoint(cfg)
    if checkpoint is not None:
        restore(run, checkpoint)
    started = run.clock_started = time.time()
    if run.step < run.total_steps:
        train_loop(run, started)
    summary = {"step": run.step, "total_steps": run.total_steps, "train_lines": len(run.train), **run.text_info,
               "world_size": run.accelerator.num_processes, "last_val": run.history[-1] if run.history else None}
    if run.accelerator.is_main_process:
        finish(run, summary)
    run.accelerator.wait_for_everyone()
    return summary


def finish(run: Run, summary: dict) -> None:
    """Final artifacts + embeddings of every line (train, val, extra manifests; both modalities)."""
    from hieralign.lines.index import embedding_table

    save_line_clip(run.unwrapped, run.tokenizer, run.out, run.cfg.preprocess(), run.max_length,
                   extra={"training": summary})
    atomic_write_json(run.out / "training_config.json", {**asdict(run.cfg), "summary": summary})
    sets: list[LineSet] = [run.train] + ([read_lines(run.cfg.val_manifest, run.cfg, "val")] if run.val else [])
    sets += [read_lines(m, run.cfg, "test") for m in run.cfg.index_manifests]
    vectors, meta = embedding_table(run.unwrapped, run.tokenizer, run.max_length, sets)
    np.save(run.out / "faiss_embeddings.npy", vectors)
    write_parquet(meta, run.out / "faiss_embeddings_meta.parquet")


def write_parquet(columns: dict[str, list], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hieralign.utils.io import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(pa.table(columns), str(tmp))
