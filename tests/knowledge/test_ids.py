from __future__ import annotations

import time

import pytest

from hieralign.knowledge.ids import IDSDatabase, IDSNode, parse_ids, pick_alternative


@pytest.fixture(scope="module")
def db():
    return IDSDatabase.load()


def test_load_is_fast_and_complete(db):
    start = time.perf_counter()
    fresh = IDSDatabase.from_text(open(db.source, encoding="utf-8").read(), db.source)
    assert time.perf_counter() - start < 2.0
    assert len(fresh.chars()) > 88000
    assert fresh.has_entry("漢") and not fresh.has_entry("A")


def test_parse_known(db):
    assert db.ids("漢", "J") == "⿰氵𦰩"
    assert db.ids("漢", "G") == "⿰氵⿱廿⿻口夫"
    tree = db.tree("漢", "J", expand=False)
    assert tree.token == "⿰" and tree.children[0] == IDSNode("氵")
    assert parse_ids("⿲彳⿱山一夂").children[2] == IDSNode("夂")


def test_region_choice(db):
    # 今: ⿱亽㇇[G]  ⿱亼㇇[TJKV]
    assert db.ids("今", "G") == "⿱亽㇇"
    assert db.ids("今", "J") == "⿱亼㇇"
    # a character with no J tag falls back J -> K -> T -> G -> V, then untagged
    alts = [("⿰甲乙", "G"), ("⿰丙丁", "T"), ("⿰戊己", "")]
    assert pick_alternative(alts, "J") == "⿰丙丁"
    assert pick_alternative([("⿰甲乙", "X"), ("⿰戊己", "")], "J") == "⿰戊己"
    assert pick_alternative([("⿰甲乙", "X")], "G") == "⿰甲乙"


def test_expansion(db):
    tree = db.tree("林", "J")
    assert tree.leaves() == ["木", "木"]
    assert db.sequence("林", "J") == ["⿰", "木", "木"]
    deep = db.tree("漢", "J")
    assert "𦰩" not in deep.leaves() and deep.leaves()[0] == "氵"
    assert all(db.is_atomic(leaf) for leaf in deep.leaves())
    stopped = db.tree("漢", "J", stop=frozenset({"𦰩"}))
    assert stopped.leaves() == ["氵", "𦰩"]
    assert db.tree("木", "J") == IDSNode("木") and db.is_atomic("木")
    assert db.is_atomic("あ") and not db.has_entry("あ")
    assert db.tree("与", "G").leaves()[0] == "②"  # placeholders stay opaque


def test_cycles_and_errors():
    text = "U+4E00\t甲\t⿰乙丙\nU+4E01\t乙\t⿱甲丁\nU+4E02\t丙\t丙\nU+4E03\t丁\t丁\nU+4E04\t戊\t⿰丁\n"
    db = IDSDatabase.from_text(text)
    tree = db.tree("甲", "J")
    assert tree.prefix() == ["⿰", "⿱", "甲", "丁", "丙"]  # the cycle stops at the repeated char
    assert db.tree("戊", "J") == IDSNode("戊")  # malformed: atomic, and reported
    assert "戊" in db.parse_errors
    with pytest.raises(ValueError, match="ends early"):
        parse_ids("⿰木")
    with pytest.raises(ValueError, match="trailing"):
        parse_ids("⿰木木木")
    with pytest.raises(ValueError, match=":1:"):
        IDSDatabase.from_text("garbage line\n")


def test_to_json(db):
    assert db.tree("林", "J").to_json() == {"op": "⿰", "children": ["木", "木"]}
