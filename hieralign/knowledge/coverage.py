"""`hieralign coverage`: how much of each charset the knowledge base can describe.

Columns per charset (counts and %):
- ids: an IDS entry exists, or the character is atomic by definition (kana, strokes, ①…);
- tree: the expanded tree bottoms out in atomic components or placeholders only;
- stroke seq: a 5-class stroke sequence exists (KanjiVG, hanzi-writer or IDS composition);
- stroke paths: drawable stroke polylines exist (KanjiVG or hanzi-writer);
- collisions: groups of ≥ 2 characters with identical expanded decompositions (土/士).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field

DEFAULT_CHARSETS = "etl9g,joyo,gb2312,jis2,jis1"


@dataclass
class CharsetCoverage:
    name: str  # charset name
    region: str  # IDS region used
    size: int  # number of characters
    ids: int  # with an IDS entry (or atomic by definition)
    tree: int  # fully resolvable expanded tree
    stroke_seq: int  # with a stroke-class sequence
    stroke_paths: int  # with stroke polylines
    collision_groups: int  # groups of >= 2 chars sharing one expanded decomposition
    collision_chars: int  # characters inside those groups
    examples: list[str] = field(default_factory=list)  # a few groups, e.g. "土士"
    missing: dict[str, str] = field(default_factory=dict)  # column -> up to 20 uncovered chars

    def percent(self, count: int) -> float:
        return 100.0 * count / max(1, self.size)


def _tree_resolves(ids_db, ch: str, region: str) -> bool:
    from hieralign.knowledge.ids import is_placeholder

    leaves = ids_db.tree(ch, region).leaves()
    return all(is_placeholder(leaf) or ids_db.is_atomic(leaf) for leaf in leaves)


def measure(name: str, n_examples: int = 5) -> CharsetCoverage:
    from hieralign.knowledge.charsets import charset
    from hieralign.knowledge.ids import IDSDatabase
    from hieralign.knowledge.protocols import region_for
    from hieralign.knowledge.strokes import StrokeDatabase

    chars, region = charset(name), region_for(name)
    ids_db, strokes_db = IDSDatabase.load(), StrokeDatabase.load()
    checks = {
        "ids": lambda c: ids_db.has_entry(c) or ids_db.is_atomic(c),
        "tree": lambda c: _tree_resolves(ids_db, c, region),
        "stroke_seq": lambda c: strokes_db.has_sequence(c, region),
        "stroke_paths": strokes_db.has,
    }
    counts, missing = {}, {}
    for column, check in checks.items():
        lacking = [c for c in chars if not check(c)]
        counts[column] = len(chars) - len(lacking)
        if lacking:
            missing[column] = "".join(lacking[:20])
    groups = collision_groups(chars, region)
    return CharsetCoverage(name, region, len(chars), **counts, collision_groups=len(groups),
                           collision_chars=sum(len(g) for g in groups),
                           examples=["".join(g) for g in groups[:n_examples]], missing=missing)


def collision_groups(chars: list[str], region: str) -> list[list[str]]:
    """Characters whose expanded IDS sequences are identical (atomic chars never collide)."""
    from hieralign.knowledge.ids import IDSDatabase

    db = IDSDatabase.load()
    by_seq: dict[str, list[str]] = defaultdict(list)
    for ch in chars:
        tree = db.tree(ch, region)
        if not tree.is_leaf:
            by_seq["".join(tree.prefix())].append(ch)
    return [g for g in by_seq.values() if len(g) > 1]


def format_table(rows: list[CharsetCoverage]) -> str:
    head = f"{'charset':<9}{'reg':>4}{'size':>7}  {'ids':>14}  {'tree':>14}  {'stroke seq':>14}  {'stroke paths':>14}  collisions"
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = [f"{n:>6} {r.percent(n):6.2f}%" for n in (r.ids, r.tree, r.stroke_seq, r.stroke_paths)]
        lines.append(f"{r.name:<9}{r.region:>4}{r.size:>7}  " + "  ".join(cells)
                     + f"  {r.collision_groups} groups / {r.collision_chars} chars, e.g. {' '.join(r.examples[:3])}")
    for r in rows:
        for column, chars in r.missing.items():
            lines.append(f"  {r.name} lacks {column}: {chars}{'…' if len(chars) == 20 else ''}")
    return "\n".join(lines)


def charset_names(spec: str) -> list[str]:
    """Named charsets of a `--charsets` value: a comma list, where `all` stands for every name."""
    from hieralign.knowledge.charsets import CHARSET_NAMES

    names: list[str] = []
    for name in (n.strip().lower() for n in spec.split(",") if n.strip()):
        names.extend(CHARSET_NAMES if name == "all" else [name])
    unknown = [n for n in names if n not in CHARSET_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown charset(s) {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(CHARSET_NAMES)}, all")
    return list(dict.fromkeys(names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hieralign coverage", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--charsets", default=DEFAULT_CHARSETS,
                        help="comma list of charset names; `all` = every named charset")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    args = parser.parse_args(argv)
    try:
        names = charset_names(args.charsets)
    except ValueError as exc:
        parser.error(str(exc))
    rows = [measure(n) for n in names]
    if args.format == "json":
        print(json.dumps([asdict(r) | {"percent": {k: round(r.percent(getattr(r, k)), 3) for k in
                                                   ("ids", "tree", "stroke_seq", "stroke_paths")}}
                          for r in rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))
    return 0
