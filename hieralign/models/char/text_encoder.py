"""Text towers: a character's decomposition -> embedding in the image embedding space.

HierCode: the class prototype is the sum of learned codebook-entry embeddings over the
character's hierarchical multi-hot IDS code (a linear map of the code).
Hi-GITA: a transformer over the stroke-class sequence, a transformer over the prefix-order IDS
tokens, and a character query that cross-attends to both (the fusion), projected to the
embedding space. Token outputs feed the token-level (late-interaction) losses.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hieralign.models.char.config import ModelConfig
from hieralign.models.char.layers import CrossAttentionBlock, transformer

STROKE_PAD = 0  # stroke-class tokens: 0 = padding, 1..5 = SD classes, 6 = start token
STROKE_START = 6


@dataclass
class TextBatch:
    """Tokenised decompositions of N characters (see `hieralign.models.char.texts`)."""

    strokes: torch.Tensor  # (N, Ls) long: start token + SD stroke classes, 0-padded
    ids: torch.Tensor  # (N, Li) long: IDS vocabulary ids in prefix order, 0-padded (>= 1 token each)
    codes: torch.Tensor  # (N, V) float: HierCode multi-hot code (empty (N,0) for Hi-GITA-only use)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def to(self, device: torch.device | str) -> TextBatch:
        return TextBatch(self.strokes.to(device), self.ids.to(device), self.codes.to(device))

    def select(self, index: torch.Tensor | slice) -> TextBatch:
        """Rows `index`, with padding columns no selected row needs cut off (attention cost ~ length)."""
        strokes, ids = self.strokes[index], self.ids[index]
        return TextBatch(_trim(strokes), _trim(ids), self.codes[index])


def _trim(tokens: torch.Tensor) -> torch.Tensor:
    used = (tokens != 0).any(dim=0).nonzero()
    return tokens[:, : int(used[-1]) + 1] if len(used) else tokens[:, :1]


class HierCodeTextEncoder(nn.Module):
    """Prototype = normalised sum of codebook embeddings over the multi-hot code."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.codebook_size <= 0:
            raise ValueError("HierCode needs codebook_size > 0 (build the model with a HierCodebook)")
        self.codebook = nn.Parameter(torch.randn(cfg.codebook_size, cfg.embed_dim) * cfg.embed_dim ** -0.5)

    def forward(self, codes: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"character": F.normalize(codes @ self.codebook, dim=-1)}


class HiGITATextEncoder(nn.Module):
    """Stroke transformer + IDS transformer, fused by a character query (cross-attention)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        t = cfg.text
        if cfg.ids_vocab_size <= 0:
            raise ValueError("Hi-GITA needs ids_vocab_size > 0 (build the model with an IDS vocabulary)")
        self.stroke_embed = nn.Embedding(cfg.num_stroke_classes + 2, t.dim, padding_idx=STROKE_PAD)
        self.stroke_pos = nn.Embedding(t.max_strokes + 1, t.dim)
        self.stroke_encoder = transformer(t.dim, t.heads, t.stroke_layers, t.dropout)
        self.ids_embed = nn.Embedding(cfg.ids_vocab_size, t.dim, padding_idx=0)
        self.ids_pos = nn.Embedding(t.max_ids_tokens, t.dim)
        self.ids_encoder = transformer(t.dim, t.heads, t.ids_layers, t.dropout)
        self.type_embed = nn.Embedding(2, t.dim)  # 0 = stroke token, 1 = IDS token, seen by the fusion
        self.char_query = nn.Parameter(torch.randn(1, 1, t.dim) * 0.02)
        self.fusion = nn.ModuleList(CrossAttentionBlock(t.dim, t.heads, dropout=t.dropout)
                                    for _ in range(t.fusion_layers))
        self.char_proj = nn.Sequential(nn.LayerNorm(t.dim), nn.Linear(t.dim, cfg.embed_dim))
        self.stroke_token_proj = nn.Linear(t.dim, cfg.loss.token_dim)
        self.ids_token_proj = nn.Linear(t.dim, cfg.loss.token_dim)
        self.max_strokes, self.max_ids = t.max_strokes + 1, t.max_ids_tokens

    def _encode(self, tokens, embed, pos, encoder):
        pad = tokens == 0
        x = embed(tokens) + pos(torch.arange(tokens.shape[1], device=tokens.device))[None]
        x = encoder(x, src_key_padding_mask=pad) if not isinstance(encoder, nn.Identity) else x
        return x, pad

    def forward(self, strokes: torch.Tensor, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        strokes, ids = strokes[:, : self.max_strokes], ids[:, : self.max_ids]
        s, s_pad = self._encode(strokes, self.stroke_embed, self.stroke_pos, self.stroke_encoder)
        r, r_pad = self._encode(ids, self.ids_embed, self.ids_pos, self.ids_encoder)
        memory = torch.cat([s + self.type_embed.weight[0], r + self.type_embed.weight[1]], dim=1)
        memory_pad = torch.cat([s_pad, r_pad], dim=1)
        query = self.char_query.expand(ids.shape[0], -1, -1)
        for block in self.fusion:
            query, _ = block(query, memory, memory_pad)
        return {
            "character": F.normalize(self.char_proj(query[:, 0]), dim=-1),
            "stroke_tokens": F.normalize(self.stroke_token_proj(s), dim=-1), "stroke_pad": s_pad,
            "radical_tokens": F.normalize(self.ids_token_proj(r), dim=-1), "radical_pad": r_pad,
        }
