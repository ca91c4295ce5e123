"""Losses: multi-positive InfoNCE at character level and late-interaction (max-sim) token losses.

Gathering across ranks and InfoNCE come from the one contrastive core (`models/contrastive.py`):
positives are decided by class label, and the loss is computed over the global batch.

`image_image_loss` trains the image tower for reference glyphs: images of one class (other fonts,
handwriting, other degradations) are positives of each other, every other image a negative, so a
query lands near the renders that describe its class at recognition time.
"""

from __future__ import annotations

import torch
from torch import nn

from hieralign.models.char.config import LossConfig
from hieralign.models.contrastive import gather_with_grad, multi_positive_nce, symmetric_nce, world_info


def late_interaction(image_tokens: torch.Tensor, text_tokens: torch.Tensor, text_pad: torch.Tensor) -> torch.Tensor:
    """(B,Ti,d) x (T,Lt,d) -> (B,T): mean over real text tokens of the best-matching image token."""
    sim = torch.einsum("bid,tjd->btji", image_tokens, text_tokens).amax(dim=-1)  # (B,T,Lt)
    valid = (~text_pad).to(sim.dtype)
    return (sim * valid[None]).sum(-1) / valid.sum(-1).clamp_min(1.0)[None]


def first_of_each_class(labels: torch.Tensor, limit: int) -> torch.Tensor:
    """Indices of the first image of each distinct label, in batch order, at most `limit`."""
    seen: set[int] = set()
    keep = []
    for i, lab in enumerate(labels.tolist()):
        if lab not in seen:
            seen.add(lab)
            keep.append(i)
        if len(keep) >= limit:
            break
    return torch.tensor(keep, dtype=torch.long, device=labels.device)


class FineGrainedContrastiveLoss(nn.Module):
    """Hi-GITA loss: w_s * stroke max-sim + w_r * radical max-sim + w_c * character InfoNCE."""

    def __init__(self, cfg: LossConfig):
        super().__init__()
        self.cfg = cfg

    def forward(self, image: dict[str, torch.Tensor], text: dict[str, torch.Tensor], image_labels: torch.Tensor,
                text_labels: torch.Tensor, logit_scale: torch.Tensor, bank: torch.Tensor | None = None,
                bank_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """`bank` (V,D) / `bank_labels` (V,): detached text embeddings of every training class (a
        memory bank refreshed every few steps); with it the character loss sees every class each
        step, the batch's classes with fresh embeddings (and gradient), the others from the bank."""
        img_lab, txt_lab = gather_with_grad(image_labels), gather_with_grad(text_labels)
        columns = gather_with_grad(text["character"])
        if bank is not None and bank_labels is not None and len(bank):
            stale = ~torch.isin(bank_labels, txt_lab)  # fresh rows replace their bank copies
            columns, txt_lab = torch.cat([columns, bank[stale].detach()]), torch.cat([txt_lab, bank_labels[stale]])
        char_logits = logit_scale * gather_with_grad(image["character"]) @ columns.t()
        losses = {"character": symmetric_nce(char_logits, img_lab, txt_lab)}
        losses.update(self._token_losses(image, text, image_labels, text_labels, logit_scale))
        c = self.cfg
        losses["total"] = (c.weight_character * losses["character"] + c.weight_stroke * losses["stroke"]
                           + c.weight_radical * losses["radical"])
        return losses

    def _token_losses(self, image, text, image_labels, text_labels, logit_scale) -> dict[str, torch.Tensor]:
        # Token-level cost is B*T*Ti*Lt*d: use one image per class (at most token_loss_max_images)
        # and those classes' texts only.
        img_idx = first_of_each_class(image_labels, self.cfg.token_loss_max_images)
        sub_labels = image_labels[img_idx]
        txt_idx = torch.stack([(text_labels == lab).nonzero()[0, 0] for lab in sub_labels.tolist()])
        img_lab, txt_lab = gather_with_grad(sub_labels), gather_with_grad(text_labels[txt_idx])
        out = {}
        for level in ("stroke", "radical"):
            img_tok = gather_with_grad(image[f"{level}_tokens"][img_idx])
            txt_tok = gather_with_grad(text[f"{level}_tokens"][txt_idx], pad_dim=1)
            txt_pad = gather_with_grad(text[f"{level}_pad"][txt_idx].float(), pad_dim=1, pad_value=1.0).bool()
            sim = late_interaction(img_tok, txt_tok, txt_pad)
            out[level] = symmetric_nce(logit_scale * sim, img_lab, txt_lab)
        return out


class HierCodeLoss(nn.Module):
    """Baseline: cross-entropy of scaled cosine logits against every training class prototype."""

    def forward(self, image: dict[str, torch.Tensor], text: dict[str, torch.Tensor], image_labels: torch.Tensor,
                text_labels: torch.Tensor, logit_scale: torch.Tensor, bank: torch.Tensor | None = None,
                bank_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        # every training class is already a column each step: a bank would add nothing
        logits = logit_scale * image["character"] @ text["character"].t()
        loss = multi_positive_nce(logits, image_labels[:, None] == text_labels[None, :])
        return {"character": loss, "total": loss}


def image_image_loss(image: torch.Tensor, labels: torch.Tensor, logit_scale: torch.Tensor,
                     world_size: int | None = None, rank: int | None = None) -> torch.Tensor:
    """Multi-positive InfoNCE of this rank's (B,D) image embeddings against the global batch.

    Rows = local images, columns = all ranks' images (gathered with gradient); an image is never
    its own positive (its column is masked), same-label images on any rank are. Rows without a
    second image of their class are skipped. Assumes equal batch sizes on every rank (the engine's)."""
    r, w = world_info()
    rank, world_size = (r if rank is None else rank), (w if world_size is None else world_size)
    columns = gather_with_grad(image, world_size)
    col_labels = gather_with_grad(labels, world_size)
    n = image.shape[0]
    rows = torch.arange(n, device=image.device)
    itself = torch.zeros(n, columns.shape[0], dtype=torch.bool, device=image.device)
    itself[rows, rows + rank * n] = True
    # a large finite value, not -inf: the zero target weight times -inf would give NaN
    logits = (logit_scale * image @ columns.t()).masked_fill(itself, -1e4)
    positives = (labels[:, None] == col_labels[None, :]) & ~itself
    return multi_positive_nce(logits, positives)
