"""Character decompositions -> token tensors (`TextBatch`) for the text towers.

Per character: the SD stroke-class sequence (KanjiVG via `hieralign.knowledge.strokes`), the
prefix-order expanded IDS tokens encoded with the model's IDS vocabulary, and (HierCode) the
hierarchical multi-hot code. The tokenizer is part of a checkpoint: its vocabulary and codebook
are saved in the checkpoint metadata and checked by hash on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hieralign.models.char.text_encoder import STROKE_START, TextBatch


def _pad(rows: list[list[int]], length: int) -> torch.Tensor:
    width = max(1, min(length, max(len(r) for r in rows)))
    out = torch.zeros(len(rows), width, dtype=torch.long)
    for i, row in enumerate(rows):
        row = row[:width]
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


@dataclass
class DecompositionTokenizer:
    region: str  # IDS region ("J" or "G")
    vocab: Any = None  # hieralign.knowledge.vocab.Vocabulary (Hi-GITA), None for HierCode
    codebook: Any = None  # hieralign.knowledge.hiercode.HierCodebook (HierCode), None for Hi-GITA
    max_strokes: int = 40  # stroke tokens kept (after the start token)
    max_ids_tokens: int = 40  # IDS tokens kept

    @classmethod
    def build(cls, train_chars: list[str], region: str, higita: bool, max_depth: int = 3,
              max_strokes: int = 40, max_ids_tokens: int = 40) -> DecompositionTokenizer:
        """Vocabulary / codebook from the *training* classes; other characters' unknown parts map to <unk>."""
        if higita:
            from hieralign.knowledge.vocab import build_ids_vocabulary

            return cls(region, vocab=build_ids_vocabulary(train_chars, region),
                       max_strokes=max_strokes, max_ids_tokens=max_ids_tokens)
        from hieralign.knowledge.hiercode import HierCodebook

        return cls(region, codebook=HierCodebook.build(train_chars, region, max_depth=max_depth),
                   max_strokes=max_strokes, max_ids_tokens=max_ids_tokens)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) if self.vocab is not None else 0

    @property
    def codebook_size(self) -> int:
        return len(self.codebook) if self.codebook is not None else 0

    @property
    def hash(self) -> str:
        """Hash of what turns characters into tensors (vocabulary or codebook)."""
        return str(self.vocab.hash if self.vocab is not None else self.codebook.hash)

    def encode(self, chars: list[str]) -> TextBatch:
        """Tokenise characters; every character gets >= 1 IDS token and the stroke start token."""
        n = len(chars)
        if self.vocab is not None:
            strokes = _pad([[STROKE_START, *_stroke_classes(c, self.region)] for c in chars], self.max_strokes + 1)
            ids = _pad([self._ids_tokens(c) for c in chars], self.max_ids_tokens)
            codes = torch.zeros(n, 0)
        else:
            strokes = torch.full((n, 1), STROKE_START, dtype=torch.long)
            ids = torch.ones(n, 1, dtype=torch.long)
            codes = torch.as_tensor(np.asarray(self.codebook.multi_hot(chars), dtype=np.float32))
        return TextBatch(strokes=strokes, ids=ids, codes=codes)

    def _ids_tokens(self, ch: str) -> list[int]:
        tokens = _ids_sequence(ch, self.region)
        ids = list(self.vocab.encode(tokens))
        return ids or list(self.vocab.encode([ch]))

    def to_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"region": self.region, "hash": self.hash, "max_strokes": self.max_strokes,
                                "max_ids_tokens": self.max_ids_tokens}
        if self.vocab is not None:
            meta["vocab"] = self.vocab.to_json()
        else:
            meta["codebook"] = self.codebook.to_json()
        return meta

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> DecompositionTokenizer:
        region = meta["region"]
        common = {"max_strokes": meta.get("max_strokes", 40), "max_ids_tokens": meta.get("max_ids_tokens", 40)}
        if "vocab" in meta:
            from hieralign.knowledge.vocab import Vocabulary

            tok = cls(region, vocab=Vocabulary.from_json(meta["vocab"]), **common)
        else:
            from hieralign.knowledge.hiercode import HierCodebook

            tok = cls(region, codebook=HierCodebook.from_json(meta["codebook"]), **common)
        if str(meta.get("hash", tok.hash)) != tok.hash:
            raise ValueError(f"checkpoint tokenizer hash {meta.get('hash')} != rebuilt {tok.hash}: the IDS or "
                             "stroke data changed since training; retrain or install the same data version")
        return tok


def _ids_sequence(ch: str, region: str) -> list[str]:
    from hieralign.knowledge.ids import IDSDatabase

    return list(IDSDatabase.load().sequence(ch, region))


def _stroke_classes(ch: str, region: str) -> list[int]:
    from hieralign.knowledge.strokes import StrokeDatabase

    return [int(c) for c in (StrokeDatabase.load().classes(ch, region) or [])]
