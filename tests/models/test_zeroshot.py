"""The recogniser core: candidate folding, the on-disk matrix cache, reference-glyph rules, fusion,
and preprocessing that survives specks, ruling lines and borders (fixtures rendered here)."""

import json

import numpy as np
import pytest

from hieralign.data.fonts import FontFace, default_training_faces
from hieralign.data.render import RenderConfig, ink_bbox, render_glyph
from hieralign.models.char.candidates import build_candidates, resolve_candidates
from hieralign.models.char.glyphs import build_prototypes, check_prototype_face, prototype_faces
from hieralign.models.char.preprocess import prepare_glyph, to_tensor
from hieralign.models.char.recognizer import CharRecognizer
from hieralign.models.char.zeroshot import fuse, top_k

CHARS = "漢字東京言語識別"


@pytest.fixture(scope="module")
def rec(tiny_checkpoint):
    return CharRecognizer.from_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="module")
def face():
    faces = default_training_faces(list(CHARS))
    if not faces:
        pytest.skip("no training font installed")
    return faces[0]


def test_compatibility_ideographs_fold_onto_unified_ones():
    assert resolve_candidates(["\uf900", "\u8c48", "漢"]) == ["\u8c48", "漢"]  # 豈 compat -> unified, once
    assert resolve_candidates("\uf91d,joyo")[0] == "\u6b04"  # a literal compat char folds too


def test_candidate_matrix_is_cached_on_disk_and_rebuilt_when_corrupt(rec, tmp_path, monkeypatch):
    monkeypatch.setenv("HIERALIGN_CACHE", str(tmp_path))
    chars = list(CHARS)
    first = build_candidates(rec.encoder, chars, "decomposition", use_disk=True)
    files = sorted((tmp_path / "candidates").glob("*.npy"))
    assert len(files) == 1 and json.loads(files[0].with_suffix(".json").read_text())["count"] == len(chars)
    again = build_candidates(rec.encoder, chars, "decomposition", use_disk=True)
    assert isinstance(again.decomposition, np.memmap)  # served memory-mapped, not re-encoded
    np.testing.assert_allclose(again.decomposition, first.decomposition)
    files[0].write_bytes(b"not a numpy file")
    rebuilt = build_candidates(rec.encoder, chars, "decomposition", use_disk=True)
    np.testing.assert_allclose(rebuilt.decomposition, first.decomposition, atol=1e-6)


def test_prototypes_refuse_test_only_families_and_non_font_sources(rec):
    klee = FontFace("/nonexistent/KleeOne-Regular.ttf", 0, "Klee One", "Regular")
    with pytest.raises(ValueError, match="test-only"):
        check_prototype_face(klee)
    with pytest.raises(ValueError, match="test-only"):
        build_prototypes(rec.encoder, list(CHARS), [klee])  # even when asked explicitly
    with pytest.raises(ValueError, match="font faces only"):
        build_prototypes(rec.encoder, list(CHARS), ["synthetic-handwriting"])
    with pytest.raises(ValueError, match="test-only"):
        prototype_faces(["Klee One/Regular", "IPA Gothic/Regular"])  # a checkpoint claiming one is refused
    assert all(f.role == "train" for f in prototype_faces([]))


def test_prototypes_come_from_the_trained_styles_not_every_weight_of_the_family(face):
    """A checkpoint that trained on a family's Regular gets that face only, not its other weights
    (all Noto CJK weights once cost minutes of renders on a machine with every CJK package)."""
    other = FontFace(face.path, face.index, face.family, "Black")  # a second weight of the same family
    chosen = prototype_faces([f"{face.name} [{face.family}]"], faces=[face, other])
    assert [f.style_name for f in chosen] == [face.style_name]
    assert len(prototype_faces([face.canonical_family], faces=[face, other])) == 2  # an old family-only record


def test_glyph_prototypes_describe_candidates_and_uncovered_fall_back(rec, face):
    chars = [*CHARS, "\U0002a6b2"]  # an Extension B ideograph no training face draws
    matrix = build_candidates(rec.encoder, chars, "both", faces=[face], use_disk=False)
    assert matrix.has_glyph.tolist() == [True] * len(CHARS) + [False]
    assert matrix.glyph_fonts == [face.name]
    glyph, decomp = np.array([[0.9, 0.1]]), np.array([[0.2, 0.6]])
    fused = fuse(glyph, decomp, np.array([True, False]), 0.7)
    np.testing.assert_allclose(fused, [[0.7 * 0.9 + 0.3 * 0.2, 0.6]])  # no prototype: decomposition alone
    images = np.stack([render_glyph(face, c, RenderConfig(size=rec.image_size)) for c in CHARS])
    emb = rec.encoder.encode_images(rec.prepare(list(images)))
    fused, dec, gly = rec.scores(emb, matrix, "glyphs")
    out = rec.rows(fused, dec, gly, matrix, 3, "glyphs", None)
    assert [r[0]["char"] for r in out] == list(CHARS)  # a print matches its own font's prototype
    assert {"glyph_score", "decomposition_score", "descriptor", "decomposition"} <= set(out[0][0])
    with pytest.raises(ValueError, match="descriptors"):
        rec.recognize(list(images), candidates=chars, descriptors="pixels")


def test_top_k_matches_a_full_sort():
    scores = np.random.default_rng(0).normal(size=(7, 50)).astype(np.float32)
    assert np.array_equal(top_k(scores, 5), np.argsort(-scores, axis=1)[:, :5])
    assert top_k(scores, 80).shape == (7, 50)


def _noisy(glyph: np.ndarray, seed: int) -> np.ndarray:
    """A scan of `glyph`: dark ink on white, framed by paper, a ruling line and specks."""
    rng = np.random.default_rng(seed)
    page = np.zeros((120, 120), np.uint8)
    page[28:92, 28:92] = glyph
    page[110, :] = 255  # ruling line under the character
    page[:, 2] = 255  # a border on the left
    specks = rng.random(page.shape) < 0.01
    page[specks] = 255
    return 255 - page


def test_specks_lines_and_borders_do_not_move_the_ink_box(rec, face):
    for k, ch in enumerate(CHARS):
        clean = render_glyph(face, ch)
        got = prepare_glyph(_noisy(clean, k))
        assert np.abs(np.array(ink_bbox(got)) - np.array(ink_bbox(clean))).max() <= 1, ch  # same crop
        a, b = got > 32, clean > 32
        assert (a & b).sum() / (a | b).sum() > 0.6, ch  # the same strokes (a 1-px shift costs IoU on thin strokes)
    # What the model sees must not move: each noisy glyph's embedding is nearest to its own clean
    # glyph among all clean ones (the tiny checkpoint never saw these classes, so comparing its
    # zero-shot answers would test its close calls, not the preprocessing).
    size, margin = rec.encoder.image_size, rec.encoder.margin
    clean = to_tensor([prepare_glyph(render_glyph(face, c), size=size, margin=margin) for c in CHARS])
    noisy = to_tensor([prepare_glyph(_noisy(render_glyph(face, c), 7), size=size, margin=margin) for c in CHARS])
    similarity = rec.encode_images(noisy) @ rec.encode_images(clean).T
    assert similarity.argmax(dim=1).tolist() == list(range(len(CHARS)))


def test_thin_characters_keep_their_aspect_like_the_training_renders(face):
    page = np.full((100, 100), 255, np.uint8)
    page[48:53, 10:90] = 0  # one drawn horizontal stroke, 一
    got = prepare_glyph(page)
    rows = np.flatnonzero(got.max(axis=1) > 32)
    assert len(rows) <= 8 and got.max(axis=0).astype(bool).sum() >= 54  # wide and flat, not a filled box
    ichi = render_glyph(face, "一")  # the training framing: aspect kept, longest side fitted
    page = np.full((90, 140), 255, np.uint8)
    page[20:84, 38:102] = 255 - ichi
    assert np.abs(prepare_glyph(page).astype(int) - ichi.astype(int)).max() <= 1


def test_one_matmul_on_the_folded_matrix_equals_fusing_two(rec, face):
    chars = [*CHARS, "\U0002a6b2"]  # the last one has no prototype
    matrix = build_candidates(rec.encoder, chars, "both", faces=[face], use_disk=False)
    images = np.stack([render_glyph(face, c, RenderConfig(size=rec.image_size)) for c in CHARS])
    emb = rec.encoder.encode_images(rec.prepare(list(images)))
    for descriptors in ("both", "glyphs", "decomposition"):
        fused, dec, gly = rec.scores(emb, matrix, descriptors, 0.6)
        np.testing.assert_allclose(emb @ matrix.fused(rec.weight(descriptors, 0.6)).T, fused, atol=1e-5)
        slow = rec.rows(fused, dec, gly, matrix, 4, descriptors, 0.6)
        fast = rec.ranked(emb, matrix, 4, rec.weight(descriptors, 0.6))
        assert [[c["char"] for c in r] for r in fast] == [[c["char"] for c in r] for r in slow]
        for a, b in zip(fast[0], slow[0]):
            assert a["descriptor"] == b["descriptor"] and a["glyph_score"] == b["glyph_score"]
            assert abs(a["score"] - b["score"]) < 2e-4 and abs(a["decomposition_score"] - b["decomposition_score"]) < 2e-4
    assert matrix.nbytes >= matrix.decomposition.nbytes * 2


def test_prototypes_rendered_by_a_pool_equal_the_in_process_ones(rec, face, monkeypatch):
    import hieralign.models.char.glyphs as glyphs

    monkeypatch.setattr(glyphs, "RENDER_CHUNK", 3)  # 8 renders -> 3 chunks, so 2 workers both draw
    one, head = build_prototypes(rec.encoder, list(CHARS), [face], workers=1)
    two, _ = build_prototypes(rec.encoder, list(CHARS), [face], workers=2)
    assert head["renders"] == len(CHARS) and glyphs.render_workers(head["renders"], 2) == 2
    np.testing.assert_allclose(one, two, atol=1e-6)
    assert glyphs.render_workers(10) == 1  # small builds stay in-process unless asked
