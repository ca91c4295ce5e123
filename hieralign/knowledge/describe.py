"""One JSON-ready description of a character: what the HTTP API and `recognize` print."""

from __future__ import annotations

from typing import Any


def describe(ch: str, region: str = "J") -> dict[str, Any]:
    """IDS (as stored and expanded), components, strokes and charset membership of `ch`.

    Keys: char, codepoint ("U+6F22"), region, ids (the chosen string, None without an entry),
    ids_expanded, tree (leaf = str, inner = {"op", "children"}), components (expanded leaves),
    strokes (SD classes 1..5), stroke_types (KanjiVG types, [] when unknown), stroke_count,
    stroke_source ("kanjivg" | "hanzi-writer" | "ids" | None), in_charsets.
    """
    from hieralign.knowledge.charsets import charsets_containing
    from hieralign.knowledge.ids import IDSDatabase
    from hieralign.knowledge.strokes import StrokeDatabase

    if len(ch) != 1:
        raise ValueError(f"describe() takes one character, got {ch!r}")
    ids_db = IDSDatabase.load()
    strokes_db = StrokeDatabase.load()
    tree = ids_db.tree(ch, region)
    classes = strokes_db.classes(ch, region)
    source = strokes_db.source(ch) or ("ids" if classes else None)
    return {
        "char": ch,
        "codepoint": f"U+{ord(ch):04X}",
        "region": region,
        "ids": ids_db.ids(ch, region),
        "ids_expanded": "".join(tree.prefix()),
        "tree": tree.to_json(),
        "components": tree.leaves(),
        "strokes": classes,
        "stroke_types": strokes_db.types(ch),
        "stroke_count": len(classes),
        "stroke_source": source,
        "in_charsets": charsets_containing(ch),
    }
