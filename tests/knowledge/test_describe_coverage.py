from __future__ import annotations

import json

import pytest

from hieralign.cli import main as cli_main
from hieralign.knowledge.coverage import collision_groups, measure
from hieralign.knowledge.describe import describe


def test_describe_kanji():
    info = describe("漢")
    assert info["codepoint"] == "U+6F22" and info["ids"] == "⿰氵𦰩"
    assert info["stroke_count"] == 13 and len(info["stroke_types"]) == 13
    assert info["tree"]["op"] == "⿰" and info["components"][0] == "氵"
    assert "jis1" in info["in_charsets"] and info["stroke_source"] == "kanjivg"
    json.dumps(info, ensure_ascii=False)  # JSON-ready
    assert describe("漢", region="G")["ids"] == "⿰氵⿱廿⿻口夫"


def test_describe_kana():
    info = describe("あ")
    assert info["ids"] is None and info["components"] == ["あ"] and info["stroke_count"] == 3


def test_coverage_thresholds():
    for name in ("etl9g", "joyo", "gb2312", "jis2"):
        row = measure(name)
        assert row.percent(row.ids) >= 99.5, name
        assert row.percent(row.tree) >= 99.5, name
    for name in ("jis1", "joyo"):
        row = measure(name)
        assert row.stroke_seq == row.size and row.stroke_paths == row.size, name


def test_collisions():
    groups = collision_groups(list("土士木林"), "J")
    assert groups == [["土", "士"]]


def test_cli_table_and_json(capsys):
    assert cli_main(["coverage", "--charsets", "joyo,kana"]) == 0
    out = capsys.readouterr().out
    assert "joyo" in out and "100.00%" in out
    assert cli_main(["coverage", "--charsets", "jis1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "jis1" and rows[0]["size"] == 2965 and rows[0]["percent"]["stroke_seq"] == 100.0


def test_cli_all_means_every_named_charset(capsys):
    from hieralign.knowledge.charsets import CHARSET_NAMES

    assert cli_main(["coverage", "--charsets", "all", "--format", "json"]) == 0
    assert [row["name"] for row in json.loads(capsys.readouterr().out)] == list(CHARSET_NAMES)
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["coverage", "--charsets", "joyo,nope"])
    assert exit_info.value.code == 2 and "unknown charset(s) nope" in capsys.readouterr().err
