"""Contrastive losses for line-CLIP, with features gathered across ranks *with gradient*.

Every rank gathers all image/text features (``torch.distributed.nn.functional.all_gather``
keeps the autograd graph, so each rank's features get gradients from every rank's loss), so
negatives come from the global batch, not just one device. Lines whose normalised texts are
identical share a group id and count as positives of each other (multi-positive soft targets),
never as negatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from all ranks in rank order; gradients flow back to every rank."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def positive_mask(group_ids: torch.Tensor) -> torch.Tensor:
    """(N, N) bool: True where two lines have the same normalised text."""
    return group_ids[:, None] == group_ids[None, :]


def infonce_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor, group_ids: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with soft targets spread over all positives of each row."""
    logits = scale * image @ text.t()
    positives = positive_mask(group_ids).to(logits.dtype)
    targets = positives / positives.sum(dim=1, keepdim=True)
    loss_i2t = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_t2i = -(targets * F.log_softmax(logits.t(), dim=1)).sum(dim=1).mean()
    return (loss_i2t + loss_t2i) / 2


def siglip_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
                group_ids: torch.Tensor) -> torch.Tensor:
    """Pairwise sigmoid loss (SigLIP): +1 for same-text pairs, -1 otherwise, averaged per image."""
    logits = scale * image @ text.t() + bias
    labels = positive_mask(group_ids).to(logits.dtype) * 2 - 1
    return -F.logsigmoid(labels * logits).sum() / image.shape[0]


def contrastive_loss(outputs: dict[str, torch.Tensor], group_ids: torch.Tensor, kind: str = "infonce") -> torch.Tensor:
    """Loss over the global batch; `outputs` are this rank's `LineCLIP.forward` results."""
    image = gather_with_grad(outputs["image_embeds"])
    text = gather_with_grad(outputs["text_embeds"])
    ids = gather_no_grad(group_ids)
    if kind == "siglip":
        return siglip_loss(image, text, outputs["logit_scale"], outputs["logit_bias"], ids)
    if kind != "infonce":
        raise ValueError(f"unknown --loss {kind!r}; choose infonce or siglip")
    return infonce_loss(image, text, outputs["logit_scale"], ids)


@torch.no_grad()
def in_batch_accuracy(image: torch.Tensor, text: torch.Tensor, group_ids: torch.Tensor) -> tuple[float, float]:
    """(i2t, t2i) top-1: the argmax lands on any line with the same text."""
    sims = image @ text.t()
    positives = positive_mask(group_ids)
    rows = torch.arange(sims.shape[0])
    i2t = positives[rows, sims.argmax(dim=1)].float().mean().item()
    t2i = positives[sims.argmax(dim=0), rows].float().mean().item()
    return i2t, t2i
