"""Retrieval metrics computed in query chunks (never a full N x N similarity matrix).

For every query, the rank of its best-scoring positive (a gallery item with the same
normalised text) is the number of gallery items scoring strictly higher. R@k = rank < k,
MRR = mean of 1 / (rank + 1). Identical texts count as the same target (DESIGN §4).
"""

from __future__ import annotations

import torch


@torch.no_grad()
def positive_ranks(queries: torch.Tensor, gallery: torch.Tensor, query_ids: torch.Tensor,
                   gallery_ids: torch.Tensor, chunk_size: int = 1024) -> torch.Tensor:
    """(Q,) int64 rank of the best positive for each query; -1 when a query has no positive."""
    ranks = []
    for start in range(0, queries.shape[0], chunk_size):
        scores = queries[start:start + chunk_size] @ gallery.t()  # (chunk, G)
        positive = query_ids[start:start + chunk_size, None] == gallery_ids[None, :]
        best = scores.masked_fill(~positive, float("-inf")).amax(dim=1, keepdim=True)
        rank = (scores > best).sum(dim=1)
        ranks.append(torch.where(positive.any(dim=1), rank, torch.full_like(rank, -1)))
    return torch.cat(ranks) if ranks else torch.zeros(0, dtype=torch.int64)


def summarize_ranks(ranks: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    valid = ranks[ranks >= 0].double()
    if valid.numel() == 0:
        return {**{f"r{k}": 0.0 for k in ks}, "mrr": 0.0, "n": 0}
    out = {f"r{k}": float((valid < k).double().mean()) for k in ks}
    out["mrr"] = float((1.0 / (valid + 1.0)).mean())
    out["n"] = int(valid.numel())
    return out


def retrieval_metrics(image_embeds: torch.Tensor, text_embeds: torch.Tensor, group_ids: torch.Tensor,
                      chunk_size: int = 1024, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """i2t_* and t2i_* R@k and MRR for paired embeddings (row i of both = line i)."""
    i2t = summarize_ranks(positive_ranks(image_embeds, text_embeds, group_ids, group_ids, chunk_size), ks)
    t2i = summarize_ranks(positive_ranks(text_embeds, image_embeds, group_ids, group_ids, chunk_size), ks)
    metrics = {f"i2t_{k}": v for k, v in i2t.items()}
    metrics.update({f"t2i_{k}": v for k, v in t2i.items()})
    return metrics
