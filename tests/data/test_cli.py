import numpy as np
import pytest

from hieralign.cli import main
from hieralign.data.store import GlyphStore
from hieralign.knowledge.protocols import reserved, split

from .glyph_formats import (
    ETL9G_FMT,
    char_to_jis,
    etl_record,
    sample_image4,
    write_etl,
    write_gnt,
    write_seed_dir,
)


def test_build_train_renders_only_seen_chars(tmp_path, ipa_gothic, capsys):
    out = tmp_path / "train"
    rc = main(["data", "build", "--out", str(out), "--seen", "500", "--limit-chars", "12", "--fonts", "IPA Gothic",
               "--hw-per-char", "3", "--per-font", "2", "--workers", "2"])
    assert rc == 0
    store = GlyphStore.open(out)
    seen, unseen = split("etl9g-zs", 500)
    assert len(store.charset) == 3036 and len(store) == 12 * (2 + 3)
    chars = {store.char(i) for i in range(len(store))}
    assert chars == set(seen[:12]) and not chars & set(unseen)
    assert store.meta["role"] == "train" and store.meta["counts_by_style"] == {"printed": 24, "handwriting": 36}
    assert store.source_names == ["IPA Gothic/Regular", "synthetic-handwriting"]
    assert all(store[i][0].max() > 100 for i in range(len(store)))  # nothing blank
    # two prints per font: the second is a variant, not a copy
    assert not np.array_equal(store[0][0], store[1][0])
    assert "wrote" in capsys.readouterr().out
    # same arguments, 1 worker: identical store
    out1 = tmp_path / "train1"
    main(["data", "build", "--out", str(out1), "--seen", "500", "--limit-chars", "12", "--fonts", "IPA Gothic",
          "--hw-per-char", "3", "--per-font", "2", "--workers", "1"])
    assert np.array_equal(np.asarray(GlyphStore.open(out1).images), np.asarray(store.images))


def test_build_refuses_leaks(tmp_path, ipa_gothic):
    with pytest.raises(ValueError, match="seen part"):
        main(["data", "build", "--out", str(tmp_path / "x"), "--part", "unseen"])
    with pytest.raises(ValueError, match="test-only"):
        main(["data", "build", "--out", str(tmp_path / "x"), "--fonts", "Klee One", "--limit-chars", "2"])
    # a training build over a reserved charset keeps nothing
    with pytest.raises(ValueError, match="nothing to produce"):
        main(["data", "build", "--out", str(tmp_path / "x"), "--charset", "jis2", "--split", "none"])
    assert not (tmp_path / "x").exists()


def test_build_eval_handwriting_unseen_uses_other_seed(tmp_path):
    out = tmp_path / "eval"
    main(["data", "build", "--out", str(out), "--role", "eval", "--styles", "handwriting", "--limit-chars", "4",
          "--hw-per-char", "2", "--workers", "1"])
    store = GlyphStore.open(out)
    _, unseen = split("etl9g-zs", 2036)
    assert {store.char(i) for i in range(len(store))} == set(unseen[:4])
    assert store.meta["part"] == "unseen" and store.meta["handwriting_seed"] != 0


def test_import_etl9g_with_protocol_and_skip_bad(tmp_path, capsys):
    seen, unseen = split("etl9g-zs", 500)
    chars = seen[:3] + unseen[:2]
    path = tmp_path / "ETL9G_01"
    write_etl(path, "".join(chars), ETL9G_FMT, repeat=2)
    out = tmp_path / "etl"
    assert main(["data", "import", "--format", "etl9g", str(tmp_path), "--out", str(out),
                 "--seen", "500", "--part", "seen"]) == 0
    store = GlyphStore.open(out)
    assert len(store) == 6 and {store.char(i) for i in range(6)} == set(seen[:3])
    assert store.style_names == ["etl9g"] and store.source_names == ["ETL9G_01"]
    img = store[0][0]
    assert img.shape == (64, 64) and img.max() == 255 and img[:4].max() == 0
    with open(path, "ab") as f:
        f.write(etl_record(ETL9G_FMT, 0x0000, sample_image4(0)))
    capsys.readouterr()
    assert main(["data", "import", "--format", "etl9g", str(path), "--out", str(tmp_path / "bad")]) == 2
    assert "byte offset 81990" in capsys.readouterr().err
    assert main(["data", "import", "--format", "etl9g", str(path), "--out", str(tmp_path / "bad"), "--skip-bad"]) == 0
    assert GlyphStore.open(tmp_path / "bad").meta["bad_records"] == 1
    assert "skipped 1 bad record" in capsys.readouterr().out


def test_import_casia_and_seed(tmp_path):
    grey = np.full((40, 30), 255, np.uint8)
    grey[10:30, 12:18] = 0
    write_gnt(tmp_path / "a.gnt", [("啊", grey), ("阿", grey)])
    main(["data", "import", "--format", "casia", str(tmp_path / "a.gnt"), "--out", str(tmp_path / "casia")])
    store = GlyphStore.open(tmp_path / "casia")
    assert [store.char(i) for i in range(2)] == ["啊", "阿"] and len(store.charset) == 3755
    write_seed_dir(tmp_path / "dataset", "".join(char_to_jis(c) and c for c in "あい亜"))
    main(["data", "import", "--format", "seed-npz", str(tmp_path / "dataset"), "--out", str(tmp_path / "seed")])
    seed = GlyphStore.open(tmp_path / "seed")
    assert len(seed) == 9 and seed.char(8) == "亜" and seed.meta["format"] == "hieralign-glyph-store"


def test_reserved_chars_never_in_training_import(tmp_path):
    jis2 = reserved()[:2]
    write_etl(tmp_path / "ETL9G_01", "".join(jis2) + "あ", ETL9G_FMT)
    # Real ETL9G has no level-2 kanji, so the reader already refuses these records as not ETL9G
    # classes (skipped here); the selection's reserved-character guard stays behind it.
    main(["data", "import", "--format", "etl9g", str(tmp_path / "ETL9G_01"), "--out", str(tmp_path / "s"),
          "--charset", "jis2,hiragana", "--split", "none", "--part", "seen", "--skip-bad"])
    store = GlyphStore.open(tmp_path / "s")
    assert [store.char(i) for i in range(len(store))] == ["あ"]


def test_fonts_cli(test_font, tmp_path, capsys):
    chars = tmp_path / "chars.txt"
    chars.write_text("一二三四\n", encoding="utf-8")
    assert main(["data", "fonts", "--charset", str(chars), "--font-dir", str(tmp_path / "fonts"),
                 "--no-system-fonts", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"Hieralign Test"' in out and '"coverage": 0.75' in out


def test_import_ignores_faint_specks(tmp_path):
    img = np.zeros((127, 128), np.uint8)
    img[40:80, 50:60] = 15  # the glyph: a vertical bar
    img[2, 2] = 3  # a faint speck in the corner (scanner noise)
    with open(tmp_path / "ETL9G_01", "wb") as f:
        f.write(etl_record(ETL9G_FMT, char_to_jis("亜"), img))
    main(["data", "import", "--format", "etl9g", str(tmp_path / "ETL9G_01"), "--out", str(tmp_path / "s")])
    out = GlyphStore.open(tmp_path / "s")[0][0]
    rows = np.flatnonzero(out.max(axis=1) > 64)
    assert rows[0] == 4 and rows[-1] == 59  # the bar alone fills the box height
