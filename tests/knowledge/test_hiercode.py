from __future__ import annotations

import torch

from hieralign.knowledge.charsets import charset
from hieralign.knowledge.hiercode import HierCodebook, node_positions
from hieralign.knowledge.ids import parse_ids


def test_node_positions_and_truncation():
    tree = parse_ids("⿰日月")
    assert node_positions(tree, 2) == [("", "⿰"), ("0", "日"), ("1", "月")]
    deep = parse_ids("⿱⿰⿱一一木口")
    pos = dict(node_positions(deep, 1))
    assert ("0+", "一") in node_positions(deep, 1) and pos["1"] == "口"


def test_codebook_codes_and_shapes():
    chars = charset("jis1")[:400]
    book = HierCodebook.build(chars, "J", max_depth=3)
    assert book.hash == HierCodebook.build(list(reversed(chars)), "J", max_depth=3).hash
    assert book.hash != HierCodebook.build(chars, "J", max_depth=2).hash
    hot = book.multi_hot(chars[:5])
    assert hot.shape == (5, len(book)) and hot.dtype == torch.float32
    assert torch.equal(hot.sum(1), torch.tensor([float(len(book.codes(c))) for c in chars[:5]]))
    flat, offsets = book.bag_inputs(chars[:5])
    assert offsets.tolist()[0] == 0 and len(flat) == int(hot.sum())
    assert book.coverage(chars[0]) == 1.0


def test_position_free_entries_help_unseen_chars():
    book = HierCodebook.build(["明", "林"], "J", max_depth=2)
    entries = [book.entries[i] for i in book.codes("朋")]  # ⿰月月: (1, 月) known, (0, 月) not
    assert ("*", "月") in entries and ("1", "月") in entries and ("0", "月") not in entries
    assert 0 < book.coverage("朋") < 1
    strict = HierCodebook.build(["明", "林"], "J", max_depth=2, position_free=False)
    assert all(pos != "*" for pos, _ in strict.entries)


def test_json_roundtrip():
    book = HierCodebook.build(charset("joyo")[:50], "J")
    again = HierCodebook.from_json(book.to_json())
    assert again.entries == book.entries and again.hash == book.hash
    assert again.codes("明") == book.codes("明")
