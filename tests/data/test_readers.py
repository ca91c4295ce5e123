import time

import numpy as np
import pytest

from hieralign.data.readers.base import CorruptRecordError, ReadReport, prepare_scan
from hieralign.data.readers.casia import read_gnt
from hieralign.data.readers.etl import ETL8G, ETL9G, RECORD_SIZE, jis_to_char, read_etl, read_etl_chunks
from hieralign.data.readers.seed_npz import parse_mapping, read_seed_dir

from .glyph_formats import (
    ETL8G_FMT,
    ETL9G_FMT,
    char_to_jis,
    etl_record,
    sample_image4,
    write_etl,
    write_gnt,
    write_seed_dir,
)

CHARS = "あい亜唖娃阿"


def test_jis_codes():
    assert jis_to_char(0x2422) == "あ" and jis_to_char(0x3021) == "亜"
    assert jis_to_char(0x0000) is None and jis_to_char(0x7F7F) is None
    assert char_to_jis("亜") == 0x3021


@pytest.mark.parametrize("fmt, struct_fmt", [(ETL9G, ETL9G_FMT), (ETL8G, ETL8G_FMT)])
def test_etl_round_trip(tmp_path, fmt, struct_fmt):
    path = tmp_path / f"{fmt.name.upper()}_01"
    written = write_etl(path, CHARS, struct_fmt)
    records = list(read_etl(path, fmt))
    assert [r.char for r in records] == list(CHARS)
    assert [r.offset for r in records] == [i * RECORD_SIZE for i in range(len(CHARS))]
    for rec, img4 in zip(records, written):
        assert rec.image.shape == (127, 128) and rec.image.dtype == np.uint8
        assert np.array_equal(rec.image, img4 * 17)  # 4-bit 15 -> 255 ink
        assert rec.source == path.name


def test_etl9g_read_with_etl8g_layout_is_shifted(tmp_path):
    """The classic bug: ETL8G offsets on ETL9G data read the image 4 bytes (8 pixels) early."""
    path = tmp_path / "ETL9G_01"
    write_etl(path, "亜", ETL9G_FMT)
    good = next(read_etl(path, ETL9G)).image
    wrong = next(read_etl(path, ETL8G)).image
    assert not np.array_equal(good, wrong)
    assert np.array_equal(wrong.reshape(-1)[8:], good.reshape(-1)[:-8])


def test_etl_truncated_and_bad_code(tmp_path):
    path = tmp_path / "ETL9G_02"
    write_etl(path, "あい亜", ETL9G_FMT)
    with open(path, "ab") as f:
        f.write(etl_record(ETL9G_FMT, 0x0101, sample_image4(0)))  # invalid JIS code
        f.write(etl_record(ETL9G_FMT, char_to_jis("阿"), sample_image4(1))[:5000])  # truncated
    with pytest.raises(CorruptRecordError) as err:
        list(read_etl(path))
    assert err.value.offset == 3 * RECORD_SIZE and str(path) in str(err.value) and "0x0101" in str(err.value)
    report = ReadReport()
    records = list(read_etl(path, skip_bad=True, report=report))
    assert [r.char for r in records] == list("あい亜")
    assert [o for _, o, _ in report.skipped] == [3 * RECORD_SIZE, 4 * RECORD_SIZE]
    assert "truncated" in report.skipped[1][2] and "skipped 2" in report.summary()


def test_etl_reads_10000_records_fast(tmp_path):
    path = tmp_path / "ETL9G_big"
    one = b"".join(etl_record(ETL9G_FMT, char_to_jis(c), sample_image4(i)) for i, c in enumerate(CHARS))
    reps = -(-10_000 // len(CHARS))
    path.write_bytes(one * reps)
    start = time.perf_counter()
    n = sum(len(chars) for _, chars, _ in read_etl_chunks(path))
    seconds = time.perf_counter() - start
    assert n == reps * len(CHARS) >= 10_000
    assert seconds < 2.0, f"read {n} records in {seconds:.2f}s"


def test_gnt_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)

    def glyph(h, w):  # paper (255) with a dark random stroke: random noise is refused as not a glyph
        grey = np.full((h, w), 255, np.uint8)
        grey[h // 3:h // 3 + max(2, h // 4), 1:w - 1] = rng.integers(0, 100, (max(2, h // 4), w - 2))
        return grey

    samples = [(ch, glyph(h, w)) for ch, h, w in [("啊", 30, 40), ("阿", 50, 20), ("中", 7, 9)]]
    path = tmp_path / "001-f.gnt"
    offsets = write_gnt(path, samples)
    records = list(read_gnt(path))
    assert [r.char for r in records] == ["啊", "阿", "中"] and [r.offset for r in records] == offsets
    for rec, (_, grey) in zip(records, samples):
        assert np.array_equal(rec.image, 255 - grey)
    data = bytearray(path.read_bytes())
    data[offsets[1]:offsets[1] + 4] = (999).to_bytes(4, "little")  # wrong sample size
    bad = tmp_path / "bad.gnt"
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptRecordError) as err:
        list(read_gnt(bad))
    assert err.value.offset == offsets[1] and "bad.gnt" in str(err.value)
    report = ReadReport()
    assert [r.char for r in read_gnt(bad, skip_bad=True, report=report)] == ["啊"]
    assert report.skipped[0][1] == offsets[1]
    short = tmp_path / "short.gnt"
    short.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CorruptRecordError, match="truncated"):
        list(read_gnt(short))


@pytest.mark.parametrize("style", ["index_to_char", "jis", "char_to_index"])
def test_seed_npz(tmp_path, style):
    ink = write_seed_dir(tmp_path / "dataset", "あい亜", per_class=2, mapping_style=style)
    records = list(read_seed_dir(tmp_path / "dataset"))
    assert [r.char for r in records] == list("ああいい亜亜")
    assert all(np.array_equal(r.image, i) for r, i in zip(records, ink))  # dark-on-light inverted
    assert records[0].source == "etl9g_dataset_chunk_0.npz" and records[3].source == "etl9g_dataset_chunk_1.npz"


def test_seed_mapping_forms():
    assert parse_mapping(["あ", "い"]) == {0: "あ", 1: "い"}
    assert parse_mapping({"classes": [{"index": 5, "char": "亜"}]}) == {5: "亜"}
    assert parse_mapping({"0": {"jis_code": "0x2422"}, "1": "U+4E9C"}) == {0: "あ", 1: "亜"}
    with pytest.raises(ValueError, match="class"):
        parse_mapping({"0": "not a char"})


def test_prepare_scan_stretches_and_denoises():
    img = np.zeros((10, 10), np.uint8)
    img[2, 2], img[5, 5] = 20, 170
    out = prepare_scan(img, floor=32)
    assert out[2, 2] == 0 and out[5, 5] == 255
