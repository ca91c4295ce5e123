"""HierCode codes: a character's expanded IDS tree as a multi-hot set of codebook entries.

Tree position (``node_positions``): the path of child indices from the root, written as a
string of digits — root ``""``, its second child ``"1"``, that node's first child ``"10"``.
Paths longer than ``max_depth`` are truncated to their first ``max_depth`` digits followed
by ``"+"``, so every node deeper than ``max_depth`` under the same ancestor shares one
position (the codebook stays bounded and deep details still count).

Entries are ``(position, token)`` pairs, token = operator or leaf component. With
``position_free=True`` each node also turns on ``("*", token)``: a component seen in training
at one position then still helps to encode a candidate that has it elsewhere (important for
zero-shot candidates whose exact (position, token) pairs never occurred in training).

Example, 明 = ⿰日月 with max_depth 2: ("", ⿰), ("0", 日), ("1", 月), ("*", ⿰), ("*", 日), ("*", 月).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import torch

from hieralign.knowledge.ids import IDSNode


@dataclass(frozen=True)
class HierCodeConfig:
    region: str = "J"  # IDS alternative: "J" Japanese, "G" Chinese
    max_depth: int = 3  # positions deeper than this collapse onto "<first max_depth digits>+"
    position_free: bool = True  # also add ("*", token) entries, position-independent
    stop: tuple[str, ...] = ()  # components not expanded further (leaf vocabulary)


def node_positions(tree: IDSNode, max_depth: int) -> list[tuple[str, str]]:
    """(position, token) for every node of `tree`, pre-order, duplicates removed."""
    out: list[tuple[str, str]] = []

    def visit(node: IDSNode, path: str) -> None:
        pos = path if len(path) <= max_depth else path[:max_depth] + "+"
        out.append((pos, node.token))
        for i, child in enumerate(node.children):
            visit(child, path + str(i))

    visit(tree, "")
    return list(dict.fromkeys(out))


@dataclass
class HierCodebook:
    config: HierCodeConfig  # how trees become entries
    entries: list[tuple[str, str]]  # entry id -> (position, token)
    _index: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {(e[0], e[1]): i for i, e in enumerate(self.entries)}

    @classmethod
    def build(cls, chars: Iterable[str], region: str = "J", max_depth: int = 3,
              position_free: bool = True, stop: Iterable[str] = ()) -> HierCodebook:
        """Collect the entries of `chars`; ordered by (position, token) so the result depends
        only on the set of characters and the config."""
        config = HierCodeConfig(region, max_depth, position_free, tuple(sorted(set(stop))))
        found: set[tuple[str, str]] = set()
        for ch in set(chars):
            found.update(_entries_of(ch, config))
        return cls(config, sorted(found))

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def hash(self) -> str:
        text = json.dumps({"config": asdict(self.config), "entries": self.entries}, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def codes(self, ch: str) -> list[int]:
        """Entry ids of `ch` (entries missing from the codebook are skipped)."""
        return [self._index[e] for e in _entries_of(ch, self.config) if e in self._index]

    def coverage(self, ch: str) -> float:
        """Fraction of `ch`'s entries present in the codebook (1.0 = fully encodable)."""
        entries = _entries_of(ch, self.config)
        return sum(e in self._index for e in entries) / max(1, len(entries))

    def multi_hot(self, chars: list[str]) -> torch.Tensor:
        """(len(chars), len(self)) float32 multi-hot matrix."""
        out = torch.zeros(len(chars), len(self.entries), dtype=torch.float32)
        for row, ch in enumerate(chars):
            out[row, self.codes(ch)] = 1.0
        return out

    def bag_inputs(self, chars: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(flat entry ids, offsets) for ``torch.nn.EmbeddingBag(len(self), d, mode="sum")``."""
        flat: list[int] = []
        offsets: list[int] = []
        for ch in chars:
            offsets.append(len(flat))
            flat.extend(self.codes(ch))
        return torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)

    def to_json(self) -> dict:
        return {"config": asdict(self.config), "entries": [list(e) for e in self.entries], "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict | str) -> HierCodebook:
        obj = json.loads(data) if isinstance(data, str) else data
        cfg = dict(obj["config"])
        cfg["stop"] = tuple(cfg.get("stop", ()))
        book = cls(HierCodeConfig(**cfg), [tuple(e) for e in obj["entries"]])
        if obj.get("hash") and obj["hash"] != book.hash:
            raise ValueError(f"codebook hash mismatch: stored {obj['hash']}, entries give {book.hash}")
        return book


@lru_cache(maxsize=200_000)
def _entries_of(ch: str, config: HierCodeConfig) -> tuple[tuple[str, str], ...]:
    """Entries of one character (memoised: candidate sets of 88k characters are re-encoded often)."""
    from hieralign.knowledge.ids import IDSDatabase

    tree = IDSDatabase.load().tree(ch, config.region, True, frozenset(config.stop))
    pairs = node_positions(tree, config.max_depth)
    if config.position_free:
        pairs += [("*", tok) for tok in dict.fromkeys(tok for _, tok in pairs)]
    return tuple(pairs)
