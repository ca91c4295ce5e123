"""The one contrastive core: gather-with-gradient, multi-positive InfoNCE, SigLIP.

Used by the character losses (HierCode / Hi-GITA, `models/char/losses.py`) and by line-CLIP
(`train/line_clip_task.py`). Like open_clip's `ClipLoss`, the loss side takes `rank` and
`world_size` and gathers itself: every rank concatenates all ranks' features *with gradient*
(`torch.distributed.nn.functional.all_gather`), so negatives come from the global batch and the
loss value equals the single-process loss on the concatenated batch.

Positives are decided by label (class of a glyph, normalised-text id of a line), never by
position: two images of one class, or one text on two ranks, are positives of each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def world_info() -> tuple[int, int]:
    """(rank, world_size) of the initialised process group; (0, 1) without one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: torch.Tensor, world_size: int | None = None, pad_dim: int | None = None,
                     pad_value: float = 0.0) -> torch.Tensor:
    """Concatenate `x` from all ranks along dim 0 (rank order), keeping the autograd graph.

    Tensors without gradient (labels, masks, ids) go through the same call. `pad_dim` first pads
    that dimension to the largest size on any rank: token sequences differ in length between
    ranks and all_gather needs equal shapes.
    """
    world = world_info()[1] if world_size is None else world_size
    if world == 1:
        return x
    import torch.distributed as dist
    import torch.distributed.nn.functional as dist_fn

    if pad_dim is not None:
        size = torch.tensor([x.shape[pad_dim]], device=x.device)
        sizes = [torch.zeros_like(size) for _ in range(world)]
        dist.all_gather(sizes, size)
        missing = int(max(int(s.item()) for s in sizes)) - x.shape[pad_dim]
        if missing:
            x = F.pad(x, [0, 0] * (x.dim() - 1 - pad_dim) + [0, missing], value=pad_value)
    if not x.requires_grad:  # labels, ids, masks: nothing to back-propagate
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)
    return torch.cat(dist_fn.all_gather(x.contiguous()), dim=0)


def multi_positive_nce(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Row-wise InfoNCE with soft targets spread evenly over each row's positives.

    Without duplicates this is CLIP's cross-entropy; with duplicates every positive gets an
    equal share of the target, none is pushed away as a negative. Rows without any positive
    are skipped (their target is undefined).
    """
    has_pos = positives.any(dim=1)
    if not bool(has_pos.any()):
        return logits.sum() * 0.0
    logits, positives = logits[has_pos], positives[has_pos].to(logits.dtype)
    targets = positives / positives.sum(dim=1, keepdim=True)
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def symmetric_nce(logits: torch.Tensor, row_labels: torch.Tensor, col_labels: torch.Tensor) -> torch.Tensor:
    """Mean of the row->column and column->row multi-positive InfoNCE of one logit matrix."""
    positives = row_labels[:, None] == col_labels[None, :]
    return 0.5 * (multi_positive_nce(logits, positives) + multi_positive_nce(logits.t(), positives.t()))


def siglip_loss(logits: torch.Tensor, row_labels: torch.Tensor, col_labels: torch.Tensor) -> torch.Tensor:
    """Pairwise sigmoid loss (SigLIP) of biased logits: +1 for same-label pairs, -1 otherwise, per row."""
    signs = (row_labels[:, None] == col_labels[None, :]).to(logits.dtype) * 2 - 1
    return -F.logsigmoid(signs * logits).sum() / logits.shape[0]


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, image_labels: torch.Tensor,
                     text_labels: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None = None,
                     kind: str = "infonce", world_size: int | None = None) -> torch.Tensor:
    """Global-batch loss between this rank's L2-normalised image and text features.

    `kind` is "infonce" (symmetric multi-positive InfoNCE) or "siglip" (needs `bias`).
    """
    if kind not in ("infonce", "siglip"):
        raise ValueError(f"unknown contrastive loss {kind!r}; choose infonce or siglip")
    image_all, text_all = gather_with_grad(image, world_size), gather_with_grad(text, world_size)
    img_lab, txt_lab = gather_with_grad(image_labels, world_size), gather_with_grad(text_labels, world_size)
    logits = scale * image_all @ text_all.t()
    if kind == "siglip":
        if bias is None:
            raise ValueError("siglip needs a logit bias")
        return siglip_loss(logits + bias, img_lab, txt_lab)
    return symmetric_nce(logits, img_lab, txt_lab)


@torch.no_grad()
def in_batch_accuracy(image: torch.Tensor, text: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(i2t, t2i) top-1 within a batch: the argmax lands on any item with the same label."""
    sims = image @ text.t()
    positives = labels[:, None] == labels[None, :]
    rows = torch.arange(sims.shape[0], device=sims.device)
    return (positives[rows, sims.argmax(dim=1)].float().mean().item(),
            positives[sims.argmax(dim=0), rows].float().mean().item())
