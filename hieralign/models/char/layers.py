"""Small building blocks shared by the image and text towers."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """3x3 conv, BN, ReLU; residual when the shape is kept.

    Dense 3x3 convs, not depthwise-separable ones: measured on 2 CPU cores, a depthwise block
    at 32x32 px ran at ~1/3 the glyphs/s of a dense block with 3x the FLOPs (oneDNN is fast on
    dense convs, depthwise ones are memory-bound). See docs/HIGITA.md.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = nn.ReLU(inplace=True)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x))
        return self.act(y + x if self.residual else y)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 2, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim * mult), nn.GELU(),
                                 nn.Dropout(dropout), nn.Linear(dim * mult, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class CrossAttentionBlock(nn.Module):
    """Queries attend to a memory (pre-norm), then a residual FFN. Returns (out, attention)."""

    def __init__(self, dim: int, heads: int, mem_dim: int | None = None, dropout: float = 0.0):
        super().__init__()
        mem_dim = mem_dim or dim
        self.norm_q = nn.LayerNorm(dim)
        self.norm_m = nn.LayerNorm(mem_dim)
        self.attn = nn.MultiheadAttention(dim, heads, kdim=mem_dim, vdim=mem_dim, dropout=dropout,
                                          batch_first=True)
        self.ffn = FeedForward(dim, dropout=dropout)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor,
                memory_pad: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mem = self.norm_m(memory)
        out, weights = self.attn(self.norm_q(queries), mem, mem, key_padding_mask=memory_pad,
                                 need_weights=True, average_attn_weights=True)
        return self.ffn(queries + out), weights


class AttentionPool(nn.Module):
    """Softmax-weighted mean of tokens by a learned score; returns (pooled, weights)."""

    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, tokens: torch.Tensor, pad: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.score(tokens).squeeze(-1)
        if pad is not None:
            logits = logits.masked_fill(pad, float("-inf"))
        weights = logits.softmax(dim=-1)
        return torch.einsum("bt,btd->bd", weights, tokens), weights


def transformer(dim: int, heads: int, layers: int, dropout: float = 0.0) -> nn.Module:
    """A pre-norm transformer encoder stack (batch first), or identity for 0 layers."""
    if layers <= 0:
        return nn.Identity()
    layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout=dropout, activation="gelu",
                                       batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
