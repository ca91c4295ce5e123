import numpy as np
import pytest

from hieralign.data.fonts import (
    FontFace,
    coverage,
    discover_fonts,
    family_info,
    outlined_chars,
    training_faces,
)
from hieralign.data.render import RenderConfig, ink_bbox, normalize_glyph, raqm_available, render_glyph


@pytest.mark.parametrize("declared, canonical, role", [
    ("Klee One", "Klee One", "test-only"),
    ("KouzanBrushFontGyousyo", "Kouzan Gyosho", "test-only"),
    ("AoyagiSosekiFont2", "Aoyagi Soseki", "test-only"),
    ("kiloji - B", "kiloji", "test-only"),
    ("BIZ UDPMincho", "BIZ UD Mincho", "test-only"),
    ("Dejima", "Dejima Mincho", "test-only"),
    ("LXGW WenKai Mono", "LXGW WenKai", "test-only"),
    ("WenQuanYi Micro Hei Mono", "WQY Micro Hei", "test-only"),
    ("Droid Sans Fallback", "Droid Sans Fallback", "test-only"),
    ("Ume Gothic S5", "Ume Gothic S5", "excluded"),
    ("Ume P Gothic S4", "Ume P Gothic S4", "excluded"),
    ("Ume P Gothic S5", "Ume P Gothic S5", "excluded"),
    ("Ume Gothic S4", "Ume Gothic S4", "train"),
    ("IPAPGothic", "IPA Gothic", "train"),
    ("BIZ UDGothic", "BIZ UD Gothic", "train"),
    ("KouzanBrushFont", "Kouzan Kaisho", "train"),
    ("Some New Font", "Some New Font", "train"),
])
def test_family_registry(declared, canonical, role):
    assert family_info(declared) == (canonical, role)


def test_outline_check_ignores_empty_glyphs(test_font):
    have = outlined_chars(test_font)
    assert {"一", "二", "三"} <= have and not {"四", "五"} & have
    assert coverage(test_font, "一二三四五") == pytest.approx(0.6)
    # second call is served from the on-disk cache and agrees
    outlined_chars.cache_clear()
    assert outlined_chars(test_font) == have


def test_extra_font_dirs_and_roles(test_font, tmp_path):
    klee = FontFace(test_font.path, 0, "Klee One", "Regular")
    crash = FontFace(test_font.path, 0, "Ume Gothic S5", "Regular")
    mine = FontFace(test_font.path, 0, "Hieralign Test", "Regular")
    faces = [klee, crash, mine]
    assert training_faces("一二三", faces=faces) == [mine]
    assert training_faces("一二三", faces=faces, role="eval") == [klee]
    assert training_faces("一二三四五", faces=faces, min_coverage=0.9) == []
    with pytest.raises(ValueError, match="test-only"):
        training_faces("一二", families=["Klee One"], faces=faces)
    found = discover_fonts(extra_dirs=[tmp_path / "fonts"], use_fc_list=False)
    assert any(f.family == "Hieralign Test" for f in found)


def test_render_is_centered_with_margin(test_font):
    cfg = RenderConfig(size=32, margin=3)
    img = render_glyph(test_font, "三", cfg)  # a filled square glyph
    assert img.dtype == np.uint8 and img.shape == (32, 32)
    top, bottom, left, right = ink_bbox(img)
    assert (top, left) == (3, 3) and (bottom, right) == (29, 29)
    assert img[16, 16] == 255 and img[0].max() == 0
    assert render_glyph(test_font, "四", cfg).max() == 0  # empty glyph -> blank image


def test_render_real_kanji(ipa_gothic):
    assert raqm_available()
    img = render_glyph(ipa_gothic, "漢")
    assert img.shape == (64, 64) and img.max() == 255
    top, bottom, left, right = ink_bbox(img)
    assert max(bottom - top, right - left) == 56  # fitted into size - 2*margin
    one = render_glyph(ipa_gothic, "一")
    t, b, lft, r = ink_bbox(one)
    assert r - lft == 56 and b - t < 12  # aspect ratio kept: a flat bar stays flat
    assert coverage(ipa_gothic, "漢字あ") == 1.0


def test_normalize_keeps_small_when_asked():
    img = np.zeros((100, 100), np.uint8)
    img[10:20, 30:40] = 255
    out = normalize_glyph(img, size=64, margin=4, upscale_small=False)
    t, b, lft, r = ink_bbox(out)
    assert (b - t, r - lft) == (10, 10) and (t, lft) == (27, 27)
    assert normalize_glyph(np.zeros((5, 5), np.uint8)).max() == 0


def test_canonical_names_keep_their_role():
    """Stores record sources as "<canonical family>/<style>"; trainers map them back with
    family_info, so a canonical name must resolve to itself with the same role."""
    from hieralign.data.fonts import FAMILY_RULES

    for _, canonical, role in FAMILY_RULES:
        assert family_info(canonical) == (canonical, role), canonical


def test_variants_with_identical_outlines_collapse(test_font, tmp_path):
    from hieralign.data.fonts import source_names

    from .conftest import make_font

    # same family and style, same outlines (a "P" re-spacing) -> one face
    twin = FontFace(test_font.path, 0, "Hieralign Test", "Regular")
    copy_path = tmp_path / "fonts" / "copy.ttf"
    copy_path.write_bytes(open(test_font.path, "rb").read())
    copy = FontFace(str(copy_path), 0, "Hieralign Test", "Regular")
    assert len(training_faces("一二三", faces=[twin, copy])) == 1
    # same family and style, different outlines (a weight variant) -> both kept, unique names
    other_path = tmp_path / "fonts" / "bold.ttf"
    make_font(other_path, drawn="三二一", empty="")
    bold = FontFace(str(other_path), 0, "Hieralign Test B", "Regular")
    bold = FontFace(bold.path, 0, "Hieralign Test", "Regular")
    faces = training_faces("一二三", faces=[twin, bold])
    assert len(faces) == 2
    names = source_names([FontFace(twin.path, 0, "kiloji", "Regular"), FontFace(bold.path, 0, "kiloji - B", "Regular")])
    assert names == ["kiloji/Regular [kiloji]", "kiloji/Regular [kiloji - B]"]
