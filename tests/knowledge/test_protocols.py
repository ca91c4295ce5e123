from __future__ import annotations

import pytest

from hieralign.knowledge.charsets import charset
from hieralign.knowledge.protocols import PROTOCOLS, region_for, reserved, split, validation_split


@pytest.mark.parametrize("m", [500, 1000, 1500, 2036])
def test_etl9g_zs(m):
    seen, unseen = split("etl9g-zs", seen=m)
    classes = charset("etl9g")
    assert len(seen) == m and len(unseen) == 1000
    assert unseen == classes[-1000:]
    assert seen == classes[:m]
    assert not set(seen) & set(unseen)
    assert all("\u4e00" <= c <= "\u9fff" for c in unseen)  # unseen are kanji only


@pytest.mark.parametrize("m", [500, 1000, 1500, 2000, 2755])
def test_gb_zs(m):
    seen, unseen = split("gb-zs", seen=m)
    assert len(seen) == m and unseen == charset("gb2312")[-1000:]
    assert not set(seen) & set(unseen)


def test_default_and_bad_sizes():
    seen, _ = split("etl9g-zs")
    assert len(seen) == 2036
    with pytest.raises(ValueError, match="not one of"):
        split("gb-zs", seen=123)
    with pytest.raises(KeyError):
        split("nope")
    assert set(PROTOCOLS) == {"etl9g-zs", "gb-zs", "jis2-zs", "jis2-zs-wide"}


def test_validation_split():
    seen, unseen = split("etl9g-zs", seen=1000)
    train, val = validation_split(seen, 100, seed=3)
    assert len(val) == 100 and len(train) == 900
    assert not set(train) & set(val) and set(train) | set(val) == set(seen)
    assert not set(val) & set(unseen)
    assert validation_split(seen, 100, seed=3) == (train, val)
    assert validation_split(seen, 100, seed=4)[1] != val
    assert [c for c in seen if c in set(val)] == val  # order kept


def test_reserved_and_regions():
    assert reserved() == charset("jis2")
    assert not set(reserved()) & set(charset("etl9g"))
    assert region_for("gb2312") == "G"
    assert region_for("etl9g") == region_for("joyo") == region_for("jis2") == "J"


def test_jis2_zs_trains_on_nothing_reserved():
    seen, unseen = split("jis2-zs")
    assert unseen == reserved()
    assert not set(seen) & set(reserved())
    assert {"あ", "亜", "啊"} <= set(seen) and len(seen) == len(set(seen))


def test_wide_protocol_trains_on_the_store_classes_minus_the_reserved_ones():
    jis2 = reserved()
    store = ["あ", "一", jis2[0], "丂", "一", jis2[5]]  # a store that (wrongly) holds reserved kanji
    seen, unseen = split("jis2-zs-wide", None, store)
    assert seen == ["あ", "一", "丂"] and unseen == jis2
    assert split("jis2-zs-wide")[0] == [] and split("jis2-zs-wide")[1] == jis2  # evaluation: unseen only
