"""A task small enough to test the engine itself in milliseconds: noisy linear regression."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hieralign.utils.checkpoint import save_weights


class LinearTask:
    selection_metric = ""

    def __init__(self, items: int = 64, batch_size: int = 8, seed: int = 0, slow_rank: int = -1):
        torch.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 1))
        rng = np.random.default_rng(seed)
        self.x = torch.from_numpy(rng.normal(size=(items, 4)).astype(np.float32))
        self.y = self.x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
        self.batch_size, self.slow_rank = batch_size, slow_rank

    def steps_per_epoch(self, world_size: int) -> int:
        return len(self.x) // (self.batch_size * world_size)

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]:
        if rank == self.slow_rank:
            time.sleep(0.2)  # one slow rank: its wall-clock budget runs out steps before the others'
        order = np.random.default_rng([0, epoch]).permutation(len(self.x))
        start = (step * world_size + rank) * self.batch_size
        idx = torch.from_numpy(order[start:start + self.batch_size])
        return {"x": self.x[idx], "y": self.y[idx]}

    def training_forward(self, model, batch, generator):
        noise = torch.randn(batch["x"].shape, generator=generator) * 0.01
        loss = ((model(batch["x"] + noise.to(batch["x"].device)) - batch["y"]) ** 2).mean()
        return {"total": loss}

    def validate(self, model) -> dict[str, float]:
        return {}

    def checkpoint_meta(self) -> dict:
        return {"model": "linear-test"}

    def save_model(self, model, out_dir: Path) -> None:
        save_weights(out_dir / "final.safetensors", model.state_dict(), self.checkpoint_meta())
