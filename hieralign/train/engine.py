"""The one training engine: `fit(task, cfg)` for every model (characters, lines, test models).

A task says what to train (`Task` below); the engine owns how: accelerate (one process, several
CPUs/GPUs, gloo on CPU), the step loop, a time budget that every rank agrees on, exact resume,
checkpoints with rotation, history and curves, the progress bar.

Exact resume: the batch of step `s` is a pure function of (epoch, step, rank, world) and the
step's randomness (augmentation generator, dropout) is seeded from (seed, global step, rank),
so a run killed at any point and restarted from its newest checkpoint replays the same steps.
The time budget is all-reduced: a rank that stopped alone would leave the others waiting in the
loss's cross-rank gather forever.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from hieralign.train import checkpoints
from hieralign.train.history import write_history
from hieralign.train.optim import make_optimizer, make_scheduler
from hieralign.utils.progress import progress
from hieralign.utils.seed import rng_state, seed_everything, set_rng_state


@dataclass
class EngineConfig:
    out: str = "runs/train"  # checkpoints, history.json, curves.png, train_log.jsonl and the final model
    epochs: int = 30  # passes over the training data (when max_steps is 0)
    max_steps: int = 0  # optimiser steps in all (0 = epochs decide); also the schedule's length
    max_steps_per_epoch: int = 0  # cap steps per epoch (quick experiments, tests); 0 = full epochs
    batch_size: int = 64  # items per step per process
    lr: float = 1e-3  # peak AdamW learning rate (after warm-up)
    weight_decay: float = 0.05  # AdamW weight decay on matrices and kernels only
    warmup_steps: int = 200  # linear warm-up steps (at most a fifth of the run), then cosine decay
    final_lr_ratio: float = 0.0  # the cosine ends at this fraction of lr
    grad_clip: float = 1.0  # max global gradient norm (0 = no clipping)
    seed: int = 0  # data order, augmentation, dropout
    keep_last: int = 3  # periodic checkpoints kept (best.safetensors is separate)
    max_minutes: float = 0.0  # stop with a resumable checkpoint after this wall time, on every rank at once (0 = no limit)
    schedule_by_time: bool = False  # cosine follows max(step, elapsed/max_minutes) progress (needs max_minutes)
    checkpoint_every: int = 0  # steps between validation + checkpoint; 0 = at the end of every epoch
    mixed_precision: str = "no"  # no | bf16 | fp16 (accelerate)
    device: str = "auto"  # auto | cpu | cuda
    num_threads: int = 0  # torch CPU threads (0 = torch default; 1 is fastest on a busy shared CPU)
    resume_from: str = ""  # "" = newest intact checkpoint in out | "none" = start fresh | a checkpoint file or dir
    log_every: int = 20  # steps between progress-bar / train_log.jsonl updates


class Task(Protocol):
    """What `fit` trains. Optional members (with defaults in the engine): `sample_unit` (str, for
    the rate's name), `check_resume(meta)` (raise ValueError when a checkpoint is not this run's)
    `write_checkpoint_artifacts(model, out_dir, name)` (extra files of a checkpoint; names
    starting with `<name>_` are rotated with it) and `selection_mode` ("max", the default, or
    "min" for error rates such as CER)."""

    @property
    def model(self) -> torch.nn.Module: ...  # the module to optimise (the engine prepares it with accelerate)
    selection_metric: str  # key of validate() that keeps `best`; "" = the newest checkpoint is best

    def steps_per_epoch(self, world_size: int) -> int: ...

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]: ...

    def training_forward(self, model: torch.nn.Module, batch: dict[str, torch.Tensor],
                         generator: torch.Generator) -> dict[str, torch.Tensor]: ...

    def validate(self, model: torch.nn.Module) -> dict[str, float]: ...

    def checkpoint_meta(self) -> dict[str, Any]: ...

    def save_model(self, model: torch.nn.Module, out_dir: Path) -> None: ...


@dataclass
class FitResult:
    stopped: bool  # the time budget ended the run early (re-run to continue)
    global_step: int  # optimiser steps done in all
    epoch: int  # completed epochs
    total_steps: int  # steps the run was planned for
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per validation/checkpoint point
    best: float | None = None  # best selection-metric value so far (None without validation)


def make_accelerator(mixed_precision: str = "no", device: str = "auto"):
    """An Accelerator; the engine steps the (unprepared) scheduler itself, once per global step."""
    from accelerate import Accelerator

    cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    return Accelerator(cpu=cpu, mixed_precision=mixed_precision, step_scheduler_with_optimizer=False)


def step_seed(seed: int, global_step: int, rank: int, world_size: int) -> int:
    """The seed of one step's randomness on one rank: a function of the step only."""
    return (seed * 1_000_003 + global_step) * world_size + rank


def train_step(acc, model: torch.nn.Module, optimizer, scheduler, forward: Callable[..., dict[str, torch.Tensor]],
               batch: dict[str, torch.Tensor], grad_clip: float) -> dict[str, float]:
    """One optimiser step: forward (under autocast), backward, clip, step; returns the losses."""
    model.train()
    with acc.autocast():
        losses = forward(model, batch)
    optimizer.zero_grad(set_to_none=True)
    acc.backward(losses["total"])
    if grad_clip:
        acc.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    return {k: float(v.detach()) for k, v in losses.items()}


def out_of_time(acc, started: float, max_minutes: float) -> bool:
    """True on every rank as soon as one rank's wall time is over the budget."""
    over = float(bool(max_minutes) and (time.time() - started) / 60 >= max_minutes)
    return bool(acc.reduce(torch.tensor(over, device=acc.device), reduction="sum") > 0)


def fit(task: Task, cfg: EngineConfig) -> FitResult:
    """Train `task.model` in place; write checkpoints and, at the end, `task.save_model`."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    run = _Run(task, cfg, make_accelerator(cfg.mixed_precision, cfg.device))
    run.resume()
    if run.global_step < run.total_steps:
        run.loop()
    if run.acc.is_main_process:
        task.save_model(run.unwrapped, run.out)
    run.acc.wait_for_everyone()
    return run.result()


class _Run:
    """The state of one `fit` call (one object, so the loop's functions stay short)."""

    def __init__(self, task: Task, cfg: EngineConfig, acc):
        self.task, self.cfg, self.acc = task, cfg, acc
        self.out = Path(cfg.out)
        self.world, self.rank = acc.num_processes, acc.process_index
        spe = task.steps_per_epoch(self.world)
        if spe < 1:
            raise ValueError(f"fewer training items than one global batch ({cfg.batch_size} x {self.world} "
                             "processes); lower --batch-size or add data")
        self.spe = min(spe, cfg.max_steps_per_epoch) if cfg.max_steps_per_epoch else spe
        self.total_steps = cfg.max_steps or cfg.epochs * self.spe
        seed_everything(cfg.seed)
        optimizer = make_optimizer(task.model, cfg.lr, cfg.weight_decay)
        self.started = time.time()
        budget = self._time_fraction if cfg.schedule_by_time and cfg.max_minutes else None
        self.scheduler = make_scheduler(optimizer, cfg.warmup_steps, self.total_steps, cfg.final_lr_ratio, budget)
        self.model, self.optimizer = acc.prepare(task.model, optimizer)
        self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self.best: float | None = None
        self.sums: dict[str, float] = {}
        self.count, self.seconds, self.stopped = 0, 0.0, False

    def _time_fraction(self) -> float:
        return (time.time() - self.started) / (60.0 * self.cfg.max_minutes)

    @property
    def unwrapped(self) -> torch.nn.Module:
        return self.acc.unwrap_model(self.model)

    def result(self) -> FitResult:
        return FitResult(self.stopped, self.global_step, self.global_step // self.spe, self.total_steps,
                         self.history, self.best)

    # ------------------------------------------------------------------ resume
    def resume(self) -> None:
        if self.acc.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            removed = checkpoints.remove_partial_files(self.out)
            if removed:
                print(f"removed {removed} partial file(s) left by an interrupted write in {self.out}", file=sys.stderr)
        self.acc.wait_for_everyone()
        if self.cfg.resume_from == "none":
            return
        found = checkpoints.load_newest_intact(self.cfg.resume_from, self.out,
                                               warn=self.acc.is_main_process)
        if found is None:
            return
        path, weights, meta, state = found
        check = getattr(self.task, "check_resume", None)
        if check is not None:
            check(meta)
        self.unwrapped.load_state_dict(weights)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self.global_step, self.best = int(state["global_step"]), state.get("best")
        self.history = json.loads(state["history"])
        self.sums, self.count = dict(state.get("sums", {})), int(state.get("count", 0))
        self.seconds = float(state.get("seconds", 0.0))
        self.acc.print(f"resumed from {path} (step {self.global_step} of {self.total_steps})")

    # ------------------------------------------------------------------ loop
    def loop(self) -> None:
        cfg, acc = self.cfg, self.acc
        bar = progress(total=self.total_steps, initial=self.global_step, desc="train",
                       disable=None if acc.is_main_process else True)
        self.started = time.time()
        while self.global_step < self.total_steps:
            tick = time.time()
            losses = self._step()
            self.seconds += time.time() - tick
            self.count += 1
            for k, v in losses.items():
                self.sums[k] = self.sums.get(k, 0.0) + v
            bar.update(1)
            if self.global_step % cfg.log_every == 0:
                bar.set_postfix(self._postfix())
                self._log({"step": self.global_step, "lr": self._lr(), **self._means()})
            self.stopped = out_of_time(acc, self.started, cfg.max_minutes)
            if self._due() or self.stopped:
                self._checkpoint()
            if self.stopped:
                acc.print(f"stopped after {cfg.max_minutes} min at step {self.global_step} of "
                          f"{self.total_steps}; re-run the same command to continue")
                break
        bar.close()

    def _step(self) -> dict[str, float]:
        epoch, step = divmod(self.global_step, self.spe)
        batch = self.task.batch(epoch, step, self.rank, self.world)
        batch = {k: v.to(self.acc.device) for k, v in batch.items()}
        seed = step_seed(self.cfg.seed, self.global_step, self.rank, self.world)
        torch.manual_seed(seed)  # dropout and any other torch randomness: a function of the step
        generator = torch.Generator().manual_seed(seed)
        losses = train_step(self.acc, self.model, self.optimizer, self.scheduler,
                            lambda model, b: self.task.training_forward(model, b, generator), batch,
                            self.cfg.grad_clip)
        self.global_step += 1
        return losses

    def _due(self) -> bool:
        every = self.cfg.checkpoint_every
        if self.global_step == self.total_steps:
            return True
        return self.global_step % every == 0 if every else self.global_step % self.spe == 0

    def _lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def _means(self) -> dict[str, float]:
        return {f"loss_{k}": v / max(self.count, 1) for k, v in self.sums.items()}

    def _postfix(self) -> dict[str, str]:
        shown = {k[5:]: f"{v:.3f}" for k, v in self._means().items()}
        return {**shown, f"{self._unit()}/s": f"{self._rate():.0f}"}

    def _unit(self) -> str:
        return str(getattr(self.task, "sample_unit", "samples"))

    def _rate(self) -> float:
        return self.count * self.cfg.batch_size * self.world / max(self.seconds, 1e-9)

    def _log(self, record: dict[str, Any]) -> None:
        if self.acc.is_main_process:
            with open(self.out / "train_log.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")

    # ------------------------------------------------------------------ checkpoints
    def _name(self) -> str:
        if self.cfg.checkpoint_every:
            return f"checkpoint_step_{self.global_step:07d}"
        if self.global_step % self.spe == 0:
            return f"epoch_{self.global_step // self.spe:03d}"
        return "interrupted" if self.stopped else f"step_{self.global_step:07d}"

    def _checkpoint(self) -> None:
        """Validate (main process), record history, save the checkpoint pair, rotate, keep `best`."""
        acc, name = self.acc, self._name()
        mid_epoch_stop = name == "interrupted"
        record: dict[str, Any] | None = None
        if acc.is_main_process and not mid_epoch_stop:
            record = self._record(self.task.validate(self.unwrapped))
            self._log({"step": self.global_step, "val": {k: v for k, v in record.items() if k.startswith("val")}})
        acc.wait_for_everyone()
        if acc.is_main_process:
            improved = record is not None and self._improved(record)
            extra = {"epoch": self.global_step // self.spe, "global_step": self.global_step,
                     **({k: v for k, v in record.items() if k.startswith("val")} if record else {})}
            meta = {**self.task.checkpoint_meta(), **extra}
            checkpoints.save_pair(self.out, name, self.unwrapped.state_dict(), meta, self._state())
            write_artifacts = getattr(self.task, "write_checkpoint_artifacts", None)
            if write_artifacts is not None:
                write_artifacts(self.unwrapped, self.out, name)
            if improved:
                checkpoints.copy_best(self.out, name)
            checkpoints.rotate(self.out, self.cfg.keep_last, name)
            if record is not None:
                write_history(self.out, self.history)
                shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
                print(f"step {self.global_step}: {shown}")
        acc.wait_for_everyone()

    def _record(self, metrics: dict[str, float]) -> dict[str, Any]:
        epoch = self.global_step / self.spe
        record: dict[str, Any] = {"epoch": int(epoch) if epoch.is_integer() else round(epoch, 3),
                                  "step": self.global_step, "lr": self._lr(), **self._means(),
                                  f"{self._unit()}_per_s": self._rate(), "seconds": self.seconds,
                                  "steps": self.count, **metrics}
        self.history.append(record)
        self.sums, self.count, self.seconds = {}, 0, 0.0
        return record

    def _improved(self, record: dict[str, Any]) -> bool:
        metric = self.task.selection_metric
        if not metric or metric not in record:
            return True  # no validation: the newest checkpoint is the best one there is
        value = float(record[metric])
        lower_is_better = getattr(self.task, "selection_mode", "max") == "min"
        if self.best is None or (value < self.best if lower_is_better else value > self.best):
            self.best = value
            return True
        return False

    def _state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "rng": rng_state(), "global_step": self.global_step, "epoch": self.global_step // self.spe,
                "step_in_epoch": self.global_step % self.spe, "best": self.best,
                "history": json.dumps(self.history), "sums": dict(self.sums), "count": self.count,
                "seconds": self.seconds, "engine": json.dumps(asdict(self.cfg))}
