"""Which model an index was built with: a hash of the model's weights, stored in index.json.

A search with another model would rank by numbers that mean nothing for that index (another
embedding space, another CTC alphabet), so `hieralign search` refuses it instead of answering.
A line-CLIP model is hashed over its loaded tensors (names, shapes, bytes), a CTC model over its
model.safetensors file; neither depends on the folder, so a model copied elsewhere
(runs/line-ocr -> assets/models/line-ocr) keeps its hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hieralign.errors import UserError


def file_hash(path: str | os.PathLike) -> str:
    """sha256 prefix of a weights file (a CTC model's model.safetensors): no torch import needed,
    so a text search starts fast; copying the folder keeps the bytes and so the hash."""
    h = hashlib.sha256()
    with open(Path(path), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def weights_hash(module) -> str:
    """sha256 prefix over every parameter and buffer of a torch module, in name order."""
    import torch

    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous().reshape(-1)  # 0-dim tensors cannot be viewed as bytes
        h.update(f"{name}:{tuple(tensor.shape)}:{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


class IndexModelMismatch(UserError):
    """The index was built by another model than the one given."""


def check_index_model(index_hash: str, model_hash: str, index_dir: str, model_dir: str) -> None:
    """Refuse an index whose recorded model hash differs (indexes without one are not checked)."""
    if index_hash and index_hash != model_hash:
        raise IndexModelMismatch(
            f"index {index_dir} was built by another model (weights {index_hash}) than {model_dir} "
            f"(weights {model_hash}); rebuild it with `hieralign index build --model {model_dir} ...`")
