"""Checkpoint files of a training run: written atomically, rotated, found again on resume.

<out>/<name>.safetensors + <name>.state.pt   a checkpoint pair: weights + self-describing meta,
                                            and the training state (optimizer, schedule, RNG, history)
    name = epoch_007 (end of an epoch), checkpoint_step_0000500 (every N steps),
           step_0000123 (a step limit mid-epoch), interrupted (time budget mid-epoch)
<out>/<name>_*                              a task's extra files of that checkpoint (rotated with it)
<out>/best.safetensors                      the best checkpoint's weights so far
<out>/latest.json                           which pair to resume from

Resume takes the newest pair that loads completely. A pair damaged by a crash, a full disk or a
hand edit is skipped with a message, and the next older intact one is used.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from hieralign.utils.checkpoint import load_state, load_weights, save_state, save_weights
from hieralign.utils.io import atomic_write_bytes, atomic_write_json

ROTATED = re.compile(r"^(epoch_\d+|checkpoint_step_\d+|step_\d+)\.state\.pt$")
STATE = ".state.pt"


def save_pair(directory: Path, name: str, weights: dict[str, torch.Tensor], meta: dict[str, Any],
              state: dict[str, Any]) -> Path:
    """Write `<name>.safetensors` and `<name>.state.pt`, then point latest.json at them."""
    weights_path = directory / f"{name}.safetensors"
    save_weights(weights_path, weights, meta)
    save_state(directory / f"{name}{STATE}", state)
    atomic_write_json(directory / "latest.json", {"weights": weights_path.name, "state": f"{name}{STATE}"})
    return weights_path


def copy_best(directory: Path, name: str) -> None:
    atomic_write_bytes(directory / "best.safetensors", (directory / f"{name}.safetensors").read_bytes())


def _remove(directory: Path, name: str) -> None:
    for path in [directory / f"{name}.safetensors", directory / f"{name}{STATE}", *directory.glob(f"{name}_*")]:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def rotate(directory: Path, keep_last: int, current: str) -> None:
    """Keep the newest `keep_last` periodic pairs; an `interrupted` pair goes once a newer one exists."""
    pairs = sorted((p.stat().st_mtime_ns, p.name[: -len(STATE)]) for p in directory.glob(f"*{STATE}")
                   if ROTATED.match(p.name))
    for _, name in pairs[: max(0, len(pairs) - max(1, keep_last))]:
        if name != current:
            _remove(directory, name)
    if current != "interrupted":
        _remove(directory, "interrupted")


def remove_partial_files(directory: Path) -> int:
    """Delete the `.NAME.XXXX.tmp` files an atomic write leaves when its process is killed."""
    partial = [p for p in directory.glob(".*.tmp") if p.is_file()]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def _candidates(directory: Path) -> list[str]:
    """Checkpoint names, newest first: latest.json's pair, then every pair on disk by age."""
    names = [p.name[: -len(STATE)] for p in sorted(directory.glob(f"*{STATE}"),
                                                   key=lambda p: p.stat().st_mtime_ns, reverse=True)]
    try:
        latest = json.loads((directory / "latest.json").read_text(encoding="utf-8"))["state"][: -len(STATE)]
        names = [latest] + [n for n in names if n != latest]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no or damaged latest.json: the files on disk decide
    return names


def _load(directory: Path, name: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    weights, meta = load_weights(directory / f"{name}.safetensors")
    try:
        state = load_state(directory / f"{name}{STATE}")
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises many types for a truncated or garbled file
        raise ValueError(f"{directory / (name + STATE)}: not a readable training state ({exc})") from exc
    if "global_step" not in state or "optimizer" not in state:
        raise ValueError(f"{directory / (name + STATE)}: not a training state of this engine")
    return weights, meta, state


def load_newest_intact(resume_from: str, directory: Path, warn: bool = True):
    """(path, weights, meta, state) of the checkpoint to resume, or None for a fresh run.

    `resume_from` "" searches `directory`; a directory searches that one; a file names one pair
    (its `.safetensors` or `.state.pt`) and must load.
    """
    target = Path(resume_from) if resume_from else directory
    if target.is_file():
        stem = target.name.removesuffix(".safetensors").removesuffix(STATE)
        if not (target.parent / f"{stem}{STATE}").is_file():
            raise FileNotFoundError(f"{target.parent / (stem + STATE)}: training state missing next to {target}; "
                                    "cannot resume exactly (start a fresh run in a new output folder)")
        return (target.parent / f"{stem}.safetensors", *_load(target.parent, stem))
    if not target.is_dir():
        if resume_from:
            raise FileNotFoundError(f"--resume-from {target}: no such file or directory")
        return None
    damaged = []
    for name in _candidates(target):
        try:
            weights, meta, state = _load(target, name)
        except (OSError, ValueError) as exc:
            damaged.append(f"{name} ({exc})")
            continue
        if damaged and warn:
            print(f"warning: skipped damaged checkpoint(s) {'; '.join(damaged)}; resuming from the newest "
                  f"intact one, {name}", file=sys.stderr)
        return target / f"{name}.safetensors", weights, meta, state
    if damaged:
        raise ValueError(f"{target}: no intact checkpoint to resume from ({'; '.join(damaged)}); "
                         "start a fresh run in a new output folder")
    if resume_from:
        raise FileNotFoundError(f"{target}: no checkpoint to resume from")
    return None
