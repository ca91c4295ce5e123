"""Which characters a dataset may contain, under the DESIGN §4 protocol rules.

Shared by `data build` and `data import`, so both enforce the same guarantees:
- role "train" renders only the seen part of a zero-shot split, and never a reserved
  (JIS X 0208 level-2) character;
- role "eval" may render any part (the unseen classes, the reserved set, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARTS = ("seen", "unseen", "all")


@dataclass
class Selection:
    charset_name: str  # the --charset argument as given
    charset: list[str]  # the store's label space (labels index into this)
    chars: list[str]  # the characters to render / import, in charset order
    split: str | None  # protocol name or None
    seen: int | None  # m of the protocol (None without a split)
    part: str  # "seen" | "unseen" | "all"
    role: str  # "train" | "eval"
    dropped_reserved: int = 0  # reserved characters removed from a training selection
    notes: list[str] = field(default_factory=list)  # human-readable remarks for the summary

    def meta(self) -> dict:
        return {"charset_name": self.charset_name, "split": self.split, "seen": self.seen, "part": self.part,
                "role": self.role, "num_selected": len(self.chars), "dropped_reserved": self.dropped_reserved}


def select_chars(charset_name: str = "etl9g", split: str | None = "etl9g-zs", seen: int | None = 2036,
                 part: str | None = None, role: str = "train") -> Selection:
    """Resolve charset + protocol + part + role into the list of characters to produce."""
    from hieralign.knowledge.charsets import load_charset_arg
    from hieralign.knowledge.protocols import reserved
    from hieralign.knowledge.protocols import split as protocol_split

    if role not in ("train", "eval"):
        raise ValueError(f"role must be train or eval, not {role!r}")
    split = None if split in (None, "", "none") else split
    if part is None:
        part = ("seen" if role == "train" else "unseen") if split else "all"
    if part not in PARTS:
        raise ValueError(f"--part must be one of {', '.join(PARTS)}, not {part!r}")
    if role == "train" and split and part != "seen":
        raise ValueError(f"--role train may only render the seen part of {split} (DESIGN §4: no images of "
                         f"unseen classes in training); use --role eval --part {part} for evaluation data")
    charset = load_charset_arg(charset_name)
    wanted = set(charset)
    notes: list[str] = []
    if split and part != "all":  # "all" = the whole charset, whatever the split
        seen_chars, unseen_chars = protocol_split(split, seen)
        pick = seen_chars if part == "seen" else unseen_chars
        outside = [c for c in pick if c not in wanted]
        if outside:
            notes.append(f"{len(outside)} {split} {part} characters are not in --charset {charset_name} and are skipped")
        wanted &= set(pick)
    dropped = 0
    if role == "train":
        bad = wanted & set(reserved())
        dropped = len(bad)
        wanted -= bad
        if dropped:
            notes.append(f"dropped {dropped} reserved JIS level-2 characters (never training images, DESIGN §4)")
    chars = [c for c in charset if c in wanted]
    if not chars:
        raise ValueError(f"nothing to produce: charset {charset_name!r}, split {split}, part {part}, role {role}")
    return Selection(charset_name, charset, chars, split, seen if split else None, part, role, dropped, notes)
