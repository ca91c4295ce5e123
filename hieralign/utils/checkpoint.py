"""Self-describing checkpoints that load without executing pickled code.

Weights go to safetensors; everything a loader needs to rebuild the model (model name, config,
vocabulary hash, charset, preprocessing, training args) goes into the safetensors metadata as
JSON. Training state (optimizer, scheduler, RNG) is saved separately with `torch.save` and read
back with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from hieralign.utils.io import atomic_save

META_KEY = "hieralign"


def save_weights(path: str | os.PathLike, state_dict: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Atomically write `state_dict` + JSON `meta` to a safetensors file."""
    from safetensors.torch import save_file

    # safetensors refuses shared storage and non-contiguous tensors; clone makes each tensor its own.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    metadata = {META_KEY: json.dumps(meta, ensure_ascii=False, default=str)}
    atomic_save(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_weights(path: str | os.PathLike, device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by `save_weights`; returns (state_dict, meta)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt", device=device) as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "{}"))
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types; name the file.
        raise ValueError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc
    return state, meta


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Metadata only, without loading tensors."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as f:
        return json.loads((f.metadata() or {}).get(META_KEY, "{}"))


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Atomically save training state (tensors, numbers, strings, lists, dicts only)."""
    atomic_save(path, lambda tmp: torch.save(state, tmp))


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Load training state without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)
