"""Issue 12 findings 8 and 11: data import catches garbage; random bytes never crash a reader."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hieralign.cli import main
from hieralign.data.readers.base import CorruptRecordError, ReadReport, prepare_scan
from hieralign.data.readers.casia import read_gnt
from hieralign.data.readers.etl import RECORD_SIZE, read_etl
from hieralign.data.render import normalize_glyph
from hieralign.data.store import GlyphStore
from hieralign.errors import UserError

from .glyph_formats import ETL8G_FMT, ETL9G_FMT, write_etl, write_gnt

KANJI = "亜唖娃阿哀愛挨姶逢葵茜穐悪握渥旭葦芦鯵梓圧斡扱宛姐虻飴絢綾鮎或粟袷安庵按暗案闇鞍杏以伊位依偉囲夷委"


def _import(capsys, *args):
    code = main(["data", "import", *args])
    return code, capsys.readouterr().err


def test_zero_byte_file_is_an_error(tmp_path, capsys):
    (tmp_path / "ETL9G_01").write_bytes(b"")
    code, err = _import(capsys, "--format", "etl9g", str(tmp_path / "ETL9G_01"), "--out", str(tmp_path / "s"))
    assert code == 2 and "empty file (0 bytes)" in err and not (tmp_path / "s").exists()


def test_etl8g_file_passed_as_etl9g_is_refused(tmp_path, capsys):
    path = tmp_path / "ETL9G_01"  # named like ETL9G, laid out as ETL8G
    write_etl(path, KANJI, ETL8G_FMT)
    code, err = _import(capsys, "--format", "etl9g", str(path), "--out", str(tmp_path / "s"))
    assert code == 2 and "look like ETL8G" in err and "--format etl8g" in err
    code, _ = _import(capsys, "--format", "etl8g", str(path), "--out", str(tmp_path / "s"))
    assert code == 0 and len(GlyphStore.open(tmp_path / "s")) == len(KANJI)


def test_etl9g_passed_as_etl8g_is_refused(tmp_path, capsys):
    path = tmp_path / "ETL8G_01"
    write_etl(path, KANJI, ETL9G_FMT)
    code, err = _import(capsys, "--format", "etl8g", str(path), "--out", str(tmp_path / "s"))
    assert code == 2 and "look like ETL9G" in err


def test_casia_file_passed_as_etl_is_refused(tmp_path, capsys):
    grey = np.full((40, 40), 255, np.uint8)
    grey[10:30, 18:22] = 0
    write_gnt(tmp_path / "ETL9G_01", [("啊", grey)])
    code, err = _import(capsys, "--format", "etl9g", str(tmp_path / "ETL9G_01"), "--out", str(tmp_path / "s"))
    assert code == 2 and "CASIA" in err


def test_noise_records_never_become_glyphs_even_with_skip_bad(tmp_path, capsys):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (100, RECORD_SIZE), dtype=np.uint8)
    path = tmp_path / "ETL9G_01"
    path.write_bytes(noise.tobytes())
    code, err = _import(capsys, "--format", "etl9g", str(path), "--out", str(tmp_path / "s"), "--skip-bad")
    assert code == 2 and "nothing imported" in err and not (tmp_path / "s").exists()
    good = tmp_path / "good"
    write_etl(good, KANJI[:10], ETL9G_FMT)
    mixed = tmp_path / "ETL9G_02"
    mixed.write_bytes(good.read_bytes() + noise.tobytes())
    report = ReadReport()
    records = list(read_etl(mixed, "etl9g", skip_bad=True, report=report))
    assert [r.char for r in records] == list(KANJI[:10]) and len(report.skipped) == 100


def test_noise_gnt_records_are_refused(tmp_path):
    rng = np.random.default_rng(2)
    write_gnt(tmp_path / "n.gnt", [("啊", rng.integers(0, 256, (40, 40)).astype(np.uint8))])
    with pytest.raises(CorruptRecordError, match="ink covers"):
        list(read_gnt(tmp_path / "n.gnt"))


# -- property-based: random bytes never crash, always a clear error naming the file (and offset) --

def _read_all(reader, path):
    try:
        return list(reader(path))
    except CorruptRecordError as exc:
        assert exc.path == str(path) and exc.offset >= 0 and str(path) in str(exc)
    except UserError as exc:
        assert str(path) in str(exc)
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=3 * RECORD_SIZE))
def test_random_bytes_never_crash_the_etl_reader(tmp_path, data):
    path = tmp_path / "ETL9G_01"
    path.write_bytes(data)
    for fmt in ("etl9g", "etl8g"):
        _read_all(lambda p, f=fmt: read_etl(p, f), path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_never_crash_the_gnt_reader(tmp_path, data):
    path = tmp_path / "x.gnt"
    path.write_bytes(data)
    _read_all(read_gnt, path)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), seed=st.integers(0, 2**32 - 1), floor=st.integers(0, 255))
def test_glyph_preprocessing_never_crashes(h, w, seed, floor):
    image = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    clean = prepare_scan(image, floor)
    out = normalize_glyph(clean, 64, 4, threshold=min(254, 2 * floor))
    assert out.shape == (64, 64) and out.dtype == np.uint8

