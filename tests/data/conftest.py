"""Fixtures for the data tests: a per-test font cache and a tiny generated TrueType font."""

from __future__ import annotations

import pytest

from hieralign.data.fonts import FontFace, discover_fonts


@pytest.fixture(autouse=True)
def _font_cache(tmp_path_factory, monkeypatch):
    # fresh outline-coverage cache (the KanjiVG cache of hieralign.knowledge is left alone)
    monkeypatch.setenv("HIERALIGN_FONT_CACHE", str(tmp_path_factory.getbasetemp() / "fontcov"))


def make_font(path, drawn: str, empty: str, family: str = "Hieralign Test") -> None:
    """A TrueType font with a filled square for each char of `drawn` and an empty glyph
    (cmap entry, no outline) for each char of `empty`."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def square(size):
        pen = TTGlyphPen(None)
        pen.moveTo((100, 100))
        for point in ((100, size), (size, size), (size, 100)):
            pen.lineTo(point)
        pen.closePath()
        return pen.glyph()

    names = [".notdef"] + [f"d{i}" for i in range(len(drawn))] + [f"e{i}" for i in range(len(empty))]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    cmap = {ord(c): f"d{i}" for i, c in enumerate(drawn)} | {ord(c): f"e{i}" for i, c in enumerate(empty)}
    fb.setupCharacterMap(cmap)
    glyphs = {".notdef": TTGlyphPen(None).glyph()}
    glyphs |= {f"d{i}": square(500 + 100 * i) for i in range(len(drawn))}
    glyphs |= {f"e{i}": TTGlyphPen(None).glyph() for i in range(len(empty))}
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (1000, 0) for n in names})
    fb.setupHorizontalHeader(ascent=900, descent=-100)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))


@pytest.fixture
def test_font(tmp_path) -> FontFace:
    path = tmp_path / "fonts" / "test.ttf"
    path.parent.mkdir()
    make_font(path, drawn="一二三", empty="四五")
    return FontFace(str(path), 0, "Hieralign Test", "Regular")


@pytest.fixture(scope="session")
def ipa_gothic() -> FontFace:
    """IPA Gothic from apt-packages.txt (fonts-ipafont-gothic)."""
    faces = [f for f in discover_fonts() if f.canonical_family == "IPA Gothic"]
    if not faces:
        pytest.skip("fonts-ipafont-gothic is not installed (apt-packages.txt); run `make setup`")
    return faces[0]
