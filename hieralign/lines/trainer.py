"""The line-CLIP training loop (accelerate; one process, several CPUs/GPUs, or gloo on CPU).

Both towers live in one `LineCLIP` module, so `accelerator.prepare` wraps them together and
DDP averages the gradients of both. The data order is a pure function of (seed, epoch): step
`s` of epoch `e` always sees the same global batch, rank `r` its `r`-th slice, which makes
resuming exact and a 2-process run equal to one process on the concatenated batch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from hieralign.lines.data import LineSet, augment, make_batch
from hieralign.lines.loss import contrastive_loss, in_batch_accuracy
from hieralign.lines.metrics import retrieval_metrics
from hieralign.lines.model import LineCLIP


@dataclass
class StepResult:
    """What one optimisation step reports."""

    loss: float  # global-batch loss
    i2t: float  # in-batch image->text top-1 (this rank's slice against the global batch)
    t2i: float  # in-batch text->image top-1


def epoch_order(num_lines: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled line order of one epoch (identical on every rank)."""
    return np.random.default_rng([seed, epoch]).permutation(num_lines)


def rank_slice(order: np.ndarray, step_in_epoch: int, batch_size: int, rank: int, world_size: int) -> np.ndarray:
    """Indices of this rank's part of the global batch `step_in_epoch`."""
    start = step_in_epoch * batch_size * world_size + rank * batch_size
    return order[start:start + batch_size]


def steps_per_epoch(num_lines: int, batch_size: int, world_size: int) -> int:
    return max(1, num_lines // (batch_size * world_size))


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on biases, norms, embeddings of position/CLS/mask, or the logit scale/bias."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.dim() < 2 or "embeddings" in name or "logit" in name else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def warmup_cosine(warmup_steps: int, total_steps: int, time_budget=None):
    """LR factor: linear warm-up, then cosine to 0 at `total_steps`.

    `time_budget` (a callable returning the elapsed fraction of --max-minutes) makes the cosine
    follow whichever is further along, steps or wall time, so a run cut by --max-minutes still
    ends at a low learning rate (at the price of a time-dependent, not bit-exact, schedule).
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        if time_budget is not None:
            progress = max(progress, time_budget())
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def make_accelerator(mixed_precision: str = "no", cpu: bool = False):
    """Accelerator whose scheduler steps once per global step.

    By default accelerate steps a prepared scheduler `num_processes` times per optimizer step
    (it assumes the schedule was written in per-process batches); our schedule counts global
    steps, so a 2-process run would otherwise decay twice as fast as a 1-process run.
    """
    from accelerate import Accelerator

    return Accelerator(mixed_precision=mixed_precision, cpu=cpu, step_scheduler_with_optimizer=False)


def train_step(accelerator, model, optimizer, scheduler, batch: dict[str, torch.Tensor], loss_kind: str) -> StepResult:
    """Forward both towers, gather across ranks, backward, step."""
    model.train()
    with accelerator.autocast():
        outputs = model(batch["pixel_values"], batch["input_ids"], batch["attention_mask"])
        loss = contrastive_loss(outputs, batch["group_ids"], loss_kind)
    accelerator.backward(loss)
    accelerator.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    i2t, t2i = in_batch_accuracy(outputs["image_embeds"].detach().float(), outputs["text_embeds"].detach().float(),
                                 batch["group_ids"])
    return StepResult(float(loss.detach()), i2t, t2i)


def training_batch(lines: LineSet, indices: np.ndarray, tokenizer, max_length: int, device,
                   generator: torch.Generator | None) -> dict[str, torch.Tensor]:
    batch = make_batch(lines, indices, tokenizer, max_length)
    if generator is not None:
        batch["pixel_values"] = augment(batch["pixel_values"], generator)
    return {k: v.to(device) for k, v in batch.items()}


@torch.no_grad()
def embed_lines(model: LineCLIP, lines: LineSet, tokenizer, max_length: int, device,
                batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """(image, text) embeddings of every line, no augmentation, eval mode."""
    was_training = model.training
    model.eval()
    images, texts = [], []
    for start in range(0, len(lines), batch_size):
        batch = make_batch(lines, np.arange(start, min(start + batch_size, len(lines))), tokenizer, max_length)
        images.append(model.encode_image(batch["pixel_values"].to(device)).float().cpu())
        texts.append(model.encode_text(batch["input_ids"].to(device), batch["attention_mask"].to(device)).float().cpu())
    model.train(was_training)
    return torch.cat(images), torch.cat(texts)


def validate(model: LineCLIP, lines: LineSet, tokenizer, max_length: int, device) -> dict[str, float]:
    started = time.time()
    image, text = embed_lines(model, lines, tokenizer, max_length, device)
    metrics = retrieval_metrics(image, text, lines.group_ids)
    metrics["seconds"] = round(time.time() - started, 2)
    return metrics
