"""Image towers: a CPU-sized CNN backbone giving 8x8 stroke tokens, and the Hi-GITA hierarchy on top.

stroke level    : the backbone's 8x8 feature map = 64 tokens (local stroke evidence)
radical level   : K learned queries cross-attend to the stroke tokens (soft, learned grouping)
character level : attention pooling over the radical tokens, projected to the embedding space
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hieralign.models.char.config import ImageEncoderConfig
from hieralign.models.char.layers import AttentionPool, ConvBlock, CrossAttentionBlock


class ConvBackbone(nn.Module):
    """Patch stem (4x4 px, stride 4: 64 -> 16 px), then stages of 3x3 conv blocks, stride 2 between."""

    def __init__(self, cfg: ImageEncoderConfig):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, cfg.stem_channels, cfg.patch_size, stride=cfg.patch_size),
                                  nn.BatchNorm2d(cfg.stem_channels), nn.ReLU(inplace=True))
        blocks: list[nn.Module] = []
        in_ch = cfg.stem_channels
        for stage, (width, count) in enumerate(zip(cfg.stage_channels, cfg.blocks_per_stage)):
            for i in range(count):
                blocks.append(ConvBlock(in_ch, width, 2 if (i == 0 and stage > 0) else 1))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = in_ch
        self.grid = cfg.image_size // cfg.patch_size // 2 ** (len(cfg.stage_channels) - 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B,1,H,W) float -> (B, grid*grid, C) tokens."""
        fmap = self.blocks(self.stem(images))
        return fmap.flatten(2).transpose(1, 2)


class HiGITAImageEncoder(nn.Module):
    """Multi-granularity image encoder: stroke tokens -> radical tokens -> character embedding."""

    def __init__(self, cfg: ImageEncoderConfig, embed_dim: int, token_dim: int):
        super().__init__()
        self.backbone = ConvBackbone(cfg)
        c = self.backbone.out_channels
        n_tokens = self.backbone.grid ** 2
        self.stroke_pos = nn.Parameter(torch.zeros(1, n_tokens, c))
        nn.init.trunc_normal_(self.stroke_pos, std=0.02)
        self.stroke_pool = AttentionPool(c)
        self.radical_queries = nn.Parameter(torch.randn(1, cfg.num_radicals, cfg.radical_dim) * 0.02)
        self.radical_blocks = nn.ModuleList(
            CrossAttentionBlock(cfg.radical_dim, cfg.heads, mem_dim=c, dropout=cfg.dropout)
            for _ in range(cfg.radical_layers))
        self.radical_pool = AttentionPool(cfg.radical_dim)
        self.char_proj = nn.Sequential(nn.LayerNorm(cfg.radical_dim + c), nn.Linear(cfg.radical_dim + c, embed_dim))
        self.stroke_token_proj = nn.Linear(c, token_dim)
        self.radical_token_proj = nn.Linear(cfg.radical_dim, token_dim)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        strokes = self.backbone(images) + self.stroke_pos
        stroke_global, stroke_attn = self.stroke_pool(strokes)
        radicals = self.radical_queries.expand(images.shape[0], -1, -1)
        for block in self.radical_blocks:
            radicals, _ = block(radicals, strokes)
        radical_global, radical_attn = self.radical_pool(radicals)
        # The character token sees both the radical summary and the stroke summary: the radical
        # queries alone can miss a small dot or hook that separates two otherwise equal kanji.
        character = F.normalize(self.char_proj(torch.cat([radical_global, stroke_global], -1)), dim=-1)
        return {
            "stroke": strokes, "stroke_attention": stroke_attn,
            "radical": radicals, "radical_attention": radical_attn,
            "character": character,
            "stroke_tokens": F.normalize(self.stroke_token_proj(strokes), dim=-1),
            "radical_tokens": F.normalize(self.radical_token_proj(radicals), dim=-1),
        }


class HierCodeImageEncoder(nn.Module):
    """HierCode baseline image side: the same backbone, attention-pooled to one embedding."""

    def __init__(self, cfg: ImageEncoderConfig, embed_dim: int):
        super().__init__()
        self.backbone = ConvBackbone(cfg)
        c = self.backbone.out_channels
        self.pool = AttentionPool(c)
        self.proj = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, embed_dim))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        strokes = self.backbone(images)
        pooled, attn = self.pool(strokes)
        return {"stroke": strokes, "stroke_attention": attn,
                "character": F.normalize(self.proj(pooled), dim=-1)}
