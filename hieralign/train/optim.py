"""The one optimiser rule and the one learning-rate schedule of every training run.

AdamW with two parameter groups: matrices and kernels decay; biases, norm scales, positional /
token embedding tables and the logit scale/bias do not (pulling them to zero fights what they
encode). The schedule is linear warm-up then cosine decay to `final_ratio` of the peak.

The schedule is hand-written (10 lines) rather than transformers'
`get_cosine_schedule_with_warmup`: it needs a floor (`final_ratio`, 1 % for the character
models), an optional wall-clock progress term for runs cut by --max-minutes, and the
character trainer must not import transformers (2-3 s of import, and only the [train] extra
has it). It is a plain `LambdaLR`, so its state resumes exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

NO_DECAY_NAME_PARTS = ("pos", "embed", "logit")  # positional tables, embeddings, logit scale/bias


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """[decayed, not decayed] groups for AdamW (see module doc for the rule)."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        skip = param.ndim < 2 or any(part in name for part in NO_DECAY_NAME_PARTS)
        (no_decay if skip else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=(0.9, 0.98), eps=1e-6)


def warmup_cosine(warmup_steps: int, total_steps: int, final_ratio: float = 0.0,
                  time_fraction: Callable[[], float] | None = None) -> Callable[[int], float]:
    """LR factor of step `s`: linear warm-up, then cosine from 1 to `final_ratio` at `total_steps`.

    Warm-up is capped at a fifth of the run, so a short run still decays. `time_fraction`
    (elapsed share of a wall-clock budget) makes the cosine follow whichever is further along,
    steps or time, so a run cut by --max-minutes still ends at a low rate (at the price of a
    time-dependent, not bit-exact, schedule).
    """
    total = max(1, total_steps)
    warmup = min(warmup_steps, total // 5)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        if time_fraction is not None:
            progress = max(progress, time_fraction())
        return final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def make_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int, final_ratio: float = 0.0,
                   time_fraction: Callable[[], float] | None = None) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(warmup_steps, total_steps, final_ratio,
                                                                      time_fraction))
