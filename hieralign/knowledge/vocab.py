"""Token vocabularies for decomposition sequences (IDS tokens, stroke classes).

A vocabulary is an ordered token list whose first entries are the special tokens; its
``hash`` (short sha256 of the list) goes into checkpoints so a model is never paired with a
vocabulary it was not trained with. ``build_ids_vocabulary`` orders tokens independently of
the order of the input characters: specials, IDS operators (fixed order), then components by
code point. So the vocabulary depends only on the *set* of characters and the region.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

PAD, UNK, CLS, EOS = "<pad>", "<unk>", "<cls>", "<eos>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, CLS, EOS)  # PAD must stay id 0


@dataclass
class Vocabulary:
    tokens: list[str]  # id -> token; starts with SPECIAL_TOKENS
    _index: dict[str, int] = field(default_factory=dict, repr=False)  # token -> id

    def __post_init__(self) -> None:
        if tuple(self.tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with {SPECIAL_TOKENS}, got {self.tokens[:4]}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        self._index = {tok: i for i, tok in enumerate(self.tokens)}

    @classmethod
    def from_tokens(cls, tokens: Iterable[str]) -> Vocabulary:
        """Specials + `tokens` (duplicates and specials in `tokens` are dropped, order kept)."""
        rest = [t for t in dict.fromkeys(tokens) if t not in SPECIAL_TOKENS]
        return cls(list(SPECIAL_TOKENS) + rest)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    @property
    def cls_id(self) -> int:
        return self._index[CLS]

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    def encode(self, tokens: Iterable[str], add_cls: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids; unknown tokens map to <unk>."""
        ids = [self._index.get(t, self.unk_id) for t in tokens]
        return ([self.cls_id] if add_cls else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> list[str]:
        out = [self.tokens[int(i)] for i in ids]
        return [t for t in out if t not in SPECIAL_TOKENS] if skip_special else out

    @property
    def hash(self) -> str:
        """Short sha256 of the token list (16 hex chars)."""
        return hashlib.sha256("\n".join(self.tokens).encode("utf-8")).hexdigest()[:16]

    def to_json(self) -> dict:
        return {"tokens": self.tokens, "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict | str) -> Vocabulary:
        """Inverse of to_json (accepts the dict or its JSON text); checks the stored hash."""
        obj = json.loads(data) if isinstance(data, str) else data
        vocab = cls(list(obj["tokens"]))
        if obj.get("hash") and obj["hash"] != vocab.hash:
            raise ValueError(f"vocabulary hash mismatch: stored {obj['hash']}, tokens give {vocab.hash}")
        return vocab


def build_ids_vocabulary(chars: Iterable[str], region: str = "J", min_count: int = 1,
                         stop: frozenset[str] = frozenset()) -> Vocabulary:
    """Vocabulary of the expanded IDS sequences of `chars` (components seen < min_count times
    are left out and will encode as <unk>)."""
    from hieralign.knowledge.ids import OPERATOR_ARITY, IDSDatabase, is_operator

    db = IDSDatabase.load()
    counts: Counter[str] = Counter()
    for ch in set(chars):
        counts.update(db.sequence(ch, region, True, stop))
    components = sorted((t for t, n in counts.items() if n >= min_count and not is_operator(t)), key=lambda t: [ord(c) for c in t])
    return Vocabulary.from_tokens(list(OPERATOR_ARITY) + components)


def build_stroke_vocabulary() -> Vocabulary:
    """Specials + the five stroke classes as tokens "1".."5" (id = class + 3)."""
    return Vocabulary.from_tokens(str(c) for c in range(1, 6))
