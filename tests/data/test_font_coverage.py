"""Issue 12 finding 12: font coverage is fast (read from tables, not drawn), cached, and only for
the faces a step needs. Faces are generated here: nothing depends on the machine's fonts."""

import time

from hieralign.data import fonts
from hieralign.data.fonts import FontFace

from .conftest import make_font


def _make_cff_font(path, drawn: str, empty: str) -> None:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    names = [".notdef"] + [f"d{i}" for i in range(len(drawn))] + [f"e{i}" for i in range(len(empty))]
    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"d{i}" for i, c in enumerate(drawn)} |
                         {ord(c): f"e{i}" for i, c in enumerate(empty)})

    def charstring(size):
        pen = T2CharStringPen(1000, None)
        if size:
            pen.moveTo((100, 100))
            for point in ((100, size), (size, size), (size, 100)):
                pen.lineTo(point)
            pen.closePath()
        return pen.getCharString()

    strings = {".notdef": charstring(0)} | {f"d{i}": charstring(500 + 50 * i) for i in range(len(drawn))}
    strings |= {f"e{i}": charstring(0) for i in range(len(empty))}
    fb.setupCFF("HieralignCFF", {"FullName": "Hieralign CFF"}, strings, {})
    fb.setupHorizontalMetrics({n: (1000, 0) for n in names})
    fb.setupHorizontalHeader(ascent=900, descent=-100)
    fb.setupNameTable({"familyName": "Hieralign CFF", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))


def test_truetype_and_cff_emptiness_from_tables(tmp_path):
    make_font(tmp_path / "t.ttf", drawn="一二三", empty="四五")
    _make_cff_font(tmp_path / "c.otf", drawn="六七", empty="八")
    assert fonts.outlined_chars(FontFace(str(tmp_path / "t.ttf"), 0, "Hieralign Test", "Regular")) == set("一二三")
    assert fonts.outlined_chars(FontFace(str(tmp_path / "c.otf"), 0, "Hieralign CFF", "Regular")) == set("六七")


def test_coverage_is_cached_on_disk_per_file_version(tmp_path, monkeypatch):
    monkeypatch.setenv("HIERALIGN_FONT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "t.ttf"
    make_font(path, drawn="一二", empty="三")
    face = FontFace(str(path), 0, "Hieralign Test", "Regular")
    assert fonts.coverage(face, "一二三") == 2 / 3
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    fonts.outlined_chars.cache_clear()
    time.sleep(0.01)
    make_font(path, drawn="一二三", empty="")  # a new version of the file: a new key, recomputed
    assert fonts.coverage(face, "一二三") == 1.0


def test_training_faces_compute_coverage_only_for_faces_the_step_may_use(tmp_path, monkeypatch):
    monkeypatch.setenv("HIERALIGN_FONT_CACHE", str(tmp_path / "cache"))
    fonts.outlined_chars.cache_clear()
    make_font(tmp_path / "a.ttf", drawn="一二三", empty="", family="Hieralign Test")
    make_font(tmp_path / "b.ttf", drawn="一二三", empty="", family="Other Family")
    faces = [FontFace(str(tmp_path / "a.ttf"), 0, "Hieralign Test", "Regular"),
             FontFace(str(tmp_path / "b.ttf"), 0, "Other Family", "Regular")]
    chosen = fonts.training_faces("一二三", families=["Hieralign Test"], faces=faces)
    assert [f.family for f in chosen] == ["Hieralign Test"]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1  # the other family was never opened


def test_outline_signature_is_cached_on_disk_and_survives_a_corrupt_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("HIERALIGN_FONT_CACHE", str(tmp_path / "cache"))
    make_font(tmp_path / "t.ttf", drawn="永漢東", empty="")
    face = FontFace(str(tmp_path / "t.ttf"), 0, "Hieralign Test", "Regular")
    fonts.outline_signature.cache_clear()
    first = fonts.outline_signature(face)
    [entry] = (tmp_path / "cache").glob("*.sig")
    assert entry.read_text() == first == fonts._compute_outline_signature(face)
    entry.write_text("garbage")  # a damaged entry is recomputed and rewritten, never returned
    fonts.outline_signature.cache_clear()
    assert fonts.outline_signature(face) == first and entry.read_text() == first
