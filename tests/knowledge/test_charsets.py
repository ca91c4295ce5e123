from __future__ import annotations

import pytest

from hieralign.knowledge.charsets import CHARSET_NAMES, charset, charsets_containing, load_charset_arg


@pytest.mark.parametrize(
    ("name", "size", "first", "last"),
    [
        ("hiragana", 83, "ぁ", "ん"),
        ("katakana", 86, "ァ", "ヶ"),
        ("jis1", 2965, "亜", "腕"),
        ("jis2", 3390, "弌", "熙"),
        ("etl9g", 3036, "あ", "腕"),
        ("gb2312", 3755, "啊", "座"),
        ("joyo", 2136, "一", None),
    ],
)
def test_sizes_and_ends(name, size, first, last):
    chars = charset(name)
    assert len(chars) == size
    assert len(set(chars)) == size
    assert all(len(c) == 1 for c in chars)
    assert chars[0] == first
    if last is not None:
        assert chars[-1] == last


def test_etl9g_layout():
    chars = charset("etl9g")
    assert chars[71] == "亜"  # 71 hiragana, then JIS level 1 in code order
    hira = chars[:71]
    assert not set(hira) & set("ぁぃぅぇぉっゃゅょゎゐゑ")
    assert {"ぢ", "づ", "を", "ん"} <= set(hira)
    assert chars[71:] == charset("jis1")


def test_code_order_and_disjointness():
    jis1, jis2 = charset("jis1"), charset("jis2")
    assert [c.encode("euc_jp") for c in jis1] == sorted(c.encode("euc_jp") for c in jis1)
    assert not set(jis1) & set(jis2)
    gb = charset("gb2312")
    assert [c.encode("gb2312") for c in gb] == sorted(c.encode("gb2312") for c in gb)
    # Jōyō 2010 has four forms JIS X 0208 lacks: 𠮟 塡 剝 頰
    assert set(charset("joyo")) - set(jis1) - set(jis2) == set("𠮟塡剝頰")
    assert charset("kana") == charset("hiragana") + charset("katakana")


def test_returns_copies():
    a = charset("jis1")
    a.append("x")
    assert len(charset("jis1")) == 2965


def test_membership():
    assert set(charsets_containing("亜")) == {"jis1", "etl9g", "joyo"}
    assert "gb2312" in charsets_containing("啊")
    assert charsets_containing("A") == []


def test_load_charset_arg(tmp_path):
    assert load_charset_arg("jis1") == charset("jis1")
    both = load_charset_arg("joyo,jis1")
    assert len(both) == len(set(charset("joyo")) | set(charset("jis1")))
    assert both[:2136] == charset("joyo")
    path = tmp_path / "chars.txt"
    path.write_text("# my set\n木\n林森\n木\n", encoding="utf-8")
    assert load_charset_arg(str(path)) == ["木", "林", "森"]
    assert len(load_charset_arg("all")) > 80000
    with pytest.raises(ValueError, match="neither a known name"):
        load_charset_arg("nosuchset")
    with pytest.raises(KeyError):
        charset("nosuchset")
    assert "gb2312" in CHARSET_NAMES


def test_load_charset_arg_accepts_literal_characters():
    assert load_charset_arg("鬱,欝,檬") == ["鬱", "欝", "檬"]
    assert load_charset_arg("鬱,hiragana")[:2] == ["鬱", "ぁ"]
    with pytest.raises(ValueError, match="neither a known name"):
        load_charset_arg("x")
