"""Checkpoint files of a training run, written atomically, rotated, and found again on resume.

<dir>/epoch_007.safetensors + epoch_007.state.pt   after each epoch (the last `keep_last` kept)
<dir>/interrupted.safetensors + .state.pt           when --max-minutes stops a run mid-epoch
<dir>/best.safetensors                              best validation zero-shot top-1 so far
<dir>/latest.json                                   which pair to resume from
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from hieralign.utils.checkpoint import load_state, load_weights, save_state, save_weights
from hieralign.utils.io import atomic_write_json

_EPOCH = re.compile(r"^epoch_(\d+)\.safetensors$")


def save_pair(directory: Path, name: str, weights: dict[str, torch.Tensor], meta: dict[str, Any],
              state: dict[str, Any]) -> Path:
    """Write `<name>.safetensors` and `<name>.state.pt`, then point latest.json at them."""
    weights_path = directory / f"{name}.safetensors"
    save_weights(weights_path, weights, meta)
    save_state(directory / f"{name}.state.pt", state)
    atomic_write_json(directory / "latest.json", {"weights": weights_path.name, "state": f"{name}.state.pt"})
    return weights_path


def rotate(directory: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` epoch checkpoints (best/latest are separate files)."""
    epochs = sorted((int(m.group(1)), p) for p in directory.glob("epoch_*.safetensors")
                    if (m := _EPOCH.match(p.name)))
    for _, path in epochs[: max(0, len(epochs) - max(1, keep_last))]:
        path.unlink(missing_ok=True)
        path.with_name(path.name.replace(".safetensors", ".state.pt")).unlink(missing_ok=True)


def find_resume(resume_from: str, checkpoint_dir: Path) -> tuple[Path, Path] | None:
    """(weights, state) to resume from: an explicit file/dir, else latest.json in checkpoint_dir."""
    target = Path(resume_from) if resume_from else checkpoint_dir
    if target.is_dir():
        latest = target / "latest.json"
        if not latest.is_file():
            if resume_from:
                raise FileNotFoundError(f"{target}: no latest.json; pass a checkpoint file to --resume-from")
            return None
        names = json.loads(latest.read_text(encoding="utf-8"))
        return target / names["weights"], target / names["state"]
    if not target.is_file():
        raise FileNotFoundError(f"--resume-from {target}: no such file or directory")
    stem = target.name.removesuffix(".safetensors").removesuffix(".state.pt")
    weights, state = target.with_name(stem + ".safetensors"), target.with_name(stem + ".state.pt")
    if not state.is_file():
        raise FileNotFoundError(f"{state}: training state missing next to {target}; cannot resume exactly "
                                "(start a new run, or fine-tune from the weights with a fresh --checkpoint-dir)")
    return weights, state


def load_pair(weights: Path, state: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    tensors, meta = load_weights(weights)
    return tensors, meta, load_state(state)
