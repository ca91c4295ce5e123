"""Peer OCR wrappers (benchmarks/peers.py): text metrics always; engines when installed here.

CI installs apt-packages.txt only, so the Tesseract and RapidOCR tests skip there with the
reason the wrapper gives; on a machine set up with `python benchmarks/peers.py --setup` they
run on glyphs and lines rendered from installed fonts.
"""

from __future__ import annotations

import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # `benchmarks` is a folder of scripts, not an installed package

from benchmarks.peers import (  # noqa: E402
    RapidOCRGlyph,
    TesseractGlyph,
    TesseractLine,
    TesseractSettings,
    cer,
    corpus_cer,
    edit_distance,
    edit_distance_matrix,
    edit_distances,
    first_symbol,
    normalize_text,
    prepare_page,
)

IPA_GOTHIC = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
TIBETAN_MACHINE = "/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf"
COMMON_KANJI = "日本語山川木水火人大学校"
TIBETAN_LINE = "བཀྲ་ཤིས་བདེ་ལེགས། ང་ཚོ་བོད་ཀྱི་ཡི་གེ་སློབ་སྦྱོང་བྱེད།"


# -- text metrics ------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,expected", [
    ("kitten", "sitting", 3), ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("flaw", "lawn", 2),
    ("日本語", "日本", 1), ("སྐྱ", "སྐ", 1), ("abc", "abc", 0), ("ab", "ba", 2),
])
def test_edit_distance_known_values(a, b, expected):
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected


def test_distances_agree_with_the_pairwise_distance():
    rng = random.Random(7)
    alphabet = "abཀཁགྱ་ 日"
    for _ in range(20):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        candidates = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15))) for _ in range(25)]
        got = edit_distances(query, candidates)
        assert got.dtype == np.int32
        assert got.tolist() == [edit_distance(query, c) for c in candidates]
    assert edit_distances("abc", []).shape == (0,)
    assert edit_distance_matrix([], ["a"]).shape == (0, 1)


def test_distance_matrix_raw_and_normalised():
    texts = ["བཀྲ་ཤིས", "བཀྲ་ཤིས་བདེ", "abc", ""]
    raw = edit_distance_matrix(texts, texts)
    assert raw.shape == (4, 4) and np.all(np.diag(raw) == 0)
    assert np.array_equal(raw, raw.T)
    assert raw[0, 1] == 4 and raw[2, 3] == 3
    norm = edit_distance_matrix(texts, texts, normalized=True)
    assert norm.dtype == np.float32 and 0.0 <= norm.min() and norm.max() <= 1.0
    assert norm[2, 3] == pytest.approx(1.0) and norm[0, 1] == pytest.approx(4 / 11)
    # ranking by OCR-then-match: each query's nearest line is itself
    assert edit_distance_matrix(texts[:3], texts).argmin(axis=1).tolist() == [0, 1, 2]


def test_cer_and_normalisation():
    assert cer("abcd", "abed") == pytest.approx(0.25)
    assert cer("abc", "abc") == 0.0 and cer("", "") == 0.0 and cer("", "xy") == 2.0
    assert cer("ab", "abcdef") == pytest.approx(2.0)  # insertions can push CER above 1
    decomposed = unicodedata.normalize("NFD", "が")
    assert cer("が", decomposed) == 0.0 and cer("が", decomposed, normalize=False) == 2.0  # か + ゛: 1 sub + 1 ins
    assert cer("ཀ་ཁ", "ཀ་ ཁ", drop_spaces=True) == 0.0 and cer("ཀ་ཁ", "ཀ་ ཁ") > 0
    assert normalize_text("  a \n\t b ") == "a b" and normalize_text(" a b ", drop_spaces=True) == "ab"
    assert corpus_cer(["abcd", "ef"], ["abcd", "xy"]) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="2 references but 1"):
        corpus_cer(["a", "b"], ["a"])


# -- image conversion --------------------------------------------------------------------------

def test_prepare_page_inverts_ink_pads_and_scales():
    ink = np.zeros((20, 30), np.uint8)
    ink[5:15, 10:20] = 255
    page = prepare_page(ink, scale=1.0, pad=4)
    assert page.shape == (28, 38) and page.dtype == np.uint8
    assert page[0, 0] == 255 and page[4 + 10, 4 + 15] == 0  # paper white, ink black
    assert prepare_page(ink, scale=0.5, pad=0).shape == (10, 15)
    natural = Image.fromarray(255 - ink)  # a PIL image is already dark on light: not inverted
    assert np.array_equal(prepare_page(natural, pad=4), page)
    floats = prepare_page(ink.astype(np.float32) / 255.0, pad=4)  # model-side float ink
    assert np.array_equal(floats, page)
    with pytest.raises(ValueError, match="shape"):
        prepare_page(np.zeros((2, 3, 4, 5), np.uint8))
    with pytest.warns(UserWarning, match="dark-on-light"):
        prepare_page(255 - ink)  # a paper-white array: the caller forgot the convention


def test_first_symbol_and_settings_validation():
    assert first_symbol(" \n日本") == "日" and first_symbol(" \n") == ""
    with pytest.raises(ValueError, match="backend"):
        TesseractSettings(lang="jpn", psm=8, backend="gpu")
    with pytest.raises(ValueError, match="psm"):
        TesseractSettings(lang="jpn", psm=14)


def test_missing_language_is_reported_not_raised():
    engine = TesseractGlyph(lang="zz_nolang", psm=8)
    status = engine.available()
    assert not status and "zz_nolang.traineddata" in status.reason
    assert engine.version == "" and "unavailable" in engine.name
    with pytest.raises(RuntimeError, match="zz_nolang"):
        engine.recognize(np.zeros((64, 64), np.uint8))


def test_setup_packages_are_listed_for_users():
    from benchmarks.peers_setup import PEER_APT_PACKAGES

    lines = (REPO / "apt-packages-bench.txt").read_text(encoding="utf-8").splitlines()
    listed = {line.split("#")[0].strip() for line in lines}
    assert set(PEER_APT_PACKAGES) <= listed


# -- engines on rendered images (skipped where the peer is not installed) ----------------------

def _font_or_skip(path: str, size: int) -> ImageFont.FreeTypeFont:
    if not Path(path).is_file():
        pytest.skip(f"{path} missing: apt-get install {'fonts-ipafont-gothic' if 'ipa' in path else 'fonts-tibetan-machine'}")
    if not features.check("raqm"):
        pytest.skip("Pillow was built without raqm: Tibetan cannot be shaped")
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


def render_glyph_ink(ch: str, size: int = 64) -> np.ndarray:
    """`ch` in IPA Gothic, centred on a size×size ink-intensity canvas (the project convention)."""
    font = _font_or_skip(IPA_GOTHIC, int(size * 0.85))
    canvas = Image.new("L", (size, size), 0)
    left, top, right, bottom = font.getbbox(ch)
    origin = ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top)
    ImageDraw.Draw(canvas).text(origin, ch, font=font, fill=255)
    return np.asarray(canvas)


def render_tibetan_line(text: str, px: int = 40) -> Image.Image:
    """Black-on-white line image (like a scan), shaped by raqm."""
    font = _font_or_skip(TIBETAN_MACHINE, px)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 24, bottom - top + 24), 255)
    ImageDraw.Draw(image).text((12 - left, 12 - top), text, font=font, fill=0)
    return image


def _ready(engine):
    status = engine.available()
    if not status:
        pytest.skip(f"{engine.name} not available here: {status.reason}")
    return engine


@pytest.fixture(scope="module")
def kanji_glyphs() -> list[np.ndarray]:
    return [render_glyph_ink(ch) for ch in COMMON_KANJI]


@pytest.mark.parametrize("psm", [8, 13])
def test_tesseract_glyph_reads_rendered_kanji(kanji_glyphs, psm):
    engine = _ready(TesseractGlyph(lang="jpn", psm=psm))
    answers = [engine.recognize(img) for img in kanji_glyphs]
    hits = sum(a == ch for a, ch in zip(answers, COMMON_KANJI))
    assert hits >= len(COMMON_KANJI) - 2, answers
    assert all(len(a) <= 1 for a in answers)
    assert engine.recognize(np.zeros((64, 64), np.uint8)) == ""  # blank: engine not asked
    assert engine.version.startswith("tesseract 5") and f"psm{psm}" in engine.name
    seconds = engine.time_per_item(kanji_glyphs[:4], warmup=1)
    assert 0.0 < seconds < 5.0


def test_tesseract_cli_backend_agrees_with_in_process(kanji_glyphs):
    in_process = _ready(TesseractGlyph(lang="jpn", psm=8, backend="tesserocr"))
    cli = _ready(TesseractGlyph(lang="jpn", psm=8, backend="cli"))
    assert cli.backend == "cli" and "(CLI)" in cli.version and in_process.backend == "tesserocr"
    for img in kanji_glyphs[:3]:
        assert cli.read_text(img) == in_process.read_text(img)


def test_tesseract_single_thread_reads_the_same_and_restores_openmp(kanji_glyphs):
    import ctypes

    serial = _ready(TesseractGlyph(lang="jpn", psm=8, backend="tesserocr"))
    threaded = _ready(TesseractGlyph(lang="jpn", psm=8, backend="tesserocr", single_thread=False))
    try:
        gomp = ctypes.CDLL("libgomp.so.1")
    except OSError:
        pytest.skip("no libgomp here: this Tesseract has no OpenMP to switch off")
    levels = gomp.omp_get_max_active_levels()
    assert [serial.read_text(g) for g in kanji_glyphs[:4]] == [threaded.read_text(g) for g in kanji_glyphs[:4]]
    assert gomp.omp_get_max_active_levels() == levels  # torch's OpenMP is left as it was


def test_tesseract_line_reads_tibetan_uchen():
    engine = _ready(TesseractLine(lang="bod"))
    line = render_tibetan_line(TIBETAN_LINE)
    text = engine.read(line)
    assert cer(TIBETAN_LINE, text, drop_spaces=True) < 0.1, text
    ink = 255 - np.asarray(line)  # the same line as an ink-intensity array reads the same
    assert engine.read(ink) == text
    fixed = _ready(TesseractLine(lang="bod", scale=0.5))
    assert "x0.5" in fixed.name and fixed.settings.target_height is None
    assert fixed.time_per_item([line], warmup=1) > 0.0


def test_tesseract_line_retries_an_empty_reading_at_other_heights():
    line = render_tibetan_line(TIBETAN_LINE)
    faint = ((255 - np.asarray(line)) * 0.55).astype(np.uint8)  # grey ink: vanishes when shrunk to 8 px
    assert _ready(TesseractLine(lang="bod", target_height=8, retry_heights=())).read(faint) == ""
    retried = TesseractLine(lang="bod", target_height=8, retry_heights=(48,))
    assert "retry-h48" in retried.name
    assert cer(TIBETAN_LINE, retried.read(faint), drop_spaces=True) < 0.15


def test_rapidocr_recognition_only_reads_rendered_kanji(kanji_glyphs):
    engine = _ready(RapidOCRGlyph())
    answers = [engine.recognize(img) for img in kanji_glyphs]
    assert sum(a == ch for a, ch in zip(answers, COMMON_KANJI)) >= len(COMMON_KANJI) - 1, answers
    assert engine.recognize(np.zeros((64, 64), np.uint8)) == ""
    assert engine.version.startswith("rapidocr ") and "rec" in engine.version
    assert engine.time_per_item(kanji_glyphs[:3], warmup=1) > 0.0
