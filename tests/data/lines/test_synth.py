import json
import random
from collections import defaultdict

import numpy as np
import pytest
from ocrfix import CURSIVE_TEST_ONLY, face
from PIL import ImageFont

from hieralign.data.fonts import ROLE_TEST_ONLY, ROLE_TRAIN, check_tibetan_training_faces, tibetan_face
from hieralign.data.lines.manifest import read_manifest
from hieralign.data.lines.synth import Degradation, degrade, render_line, require_raqm
from hieralign.data.lines.synth_cli import main as synth_main
from hieralign.data.lines.text import (
    bospell_words,
    check_training_text,
    mo_messages,
    mo_text_sampler,
    text_file_words,
)
from hieralign.knowledge.tibetan import TSHEG, bospell_syllables, syllables

STACK = "\u0f66\u0f92\u0fb2\u0f74\u0f56"  # སྒྲུབ: sa + subjoined ga + subjoined ra + u + ba


def test_raqm_is_available():
    require_raqm()
    assert ImageFont.core.HAVE_RAQM


def test_raqm_stacks_tibetan(print_face):
    """raqm substitutes the subjoined forms (a taller stack); BASIC layout draws other glyphs."""
    shaped = ImageFont.truetype(print_face.path, 40, layout_engine=ImageFont.Layout.RAQM).getbbox(STACK)
    basic = ImageFont.truetype(print_face.path, 40, layout_engine=ImageFont.Layout.BASIC).getbbox(STACK)
    assert shaped[3] > basic[3]
    image = render_line(STACK, print_face.path, 40)
    ink = np.asarray(image) < 128
    assert ink.any() and image.height > 40  # three stacked letters reach well below one letter's height


def test_registry_roles_by_file_name():
    assert tibetan_face("/x/NotoSerifTibetan-Regular.ttf").role == ROLE_TEST_ONLY
    assert tibetan_face("/x/Monlam Uni ChoukMatik.ttf").family == "Monlam Uni ChoukMatik"
    assert tibetan_face("/x/Monlam Uni TikTong.ttf", style="print").role == ROLE_TEST_ONLY  # style never frees it
    dutsa = tibetan_face("/x/Monlam Uni Dutsa2.ttf")
    assert (dutsa.role, dutsa.style) == (ROLE_TRAIN, "cursive")
    assert tibetan_face("/x/TibetanMachineUni.ttf").role == ROLE_TRAIN
    with pytest.raises(ValueError, match="Monlam Uni Chouk"):
        check_tibetan_training_faces(["/x/Monlam Uni Chouk.ttf", "/x/DDC_Uchen.ttf"])


def test_dataset_splits_by_document_and_keeps_test_faces_out_of_training(synth_dataset):
    root, faces = synth_dataset
    sources_per_split = defaultdict(set)
    for split in ("train", "val", "test"):
        report = read_manifest(root / f"{split}.jsonl", root, verify_images=True)
        assert report.missing == [] and report.unreadable == []
        for r in report.records:
            assert r.split == split and r.source and r.style in ("print", "cursive", "degraded")
            assert TSHEG in r.text  # tsheg-separated Tibetan syllables
            assert split == "test" or r.extra["role"] == ROLE_TRAIN
            sources_per_split[split].add(r.source)
    assert sources_per_split["train"] and sources_per_split["test"]
    assert not (sources_per_split["train"] & sources_per_split["test"])
    assert not (sources_per_split["train"] & sources_per_split["val"])
    assert not (sources_per_split["val"] & sources_per_split["test"])
    card = json.loads((root / "dataset.json").read_text())
    test_only = [f for f in faces if f.role == ROLE_TEST_ONLY]
    assert sum(card["lines_per_split"].values()) == 48 + 4 * len(test_only)
    assert sum(card["test_sets"].values()) == card["lines_per_split"]["test"]
    for f in test_only:  # each test-only face has its own manifest, and only in test_sets
        rows = read_manifest(root / "test_sets" / f.style / f"{f.family.replace(' ', '_')}.jsonl").records
        assert rows and {r.extra["face"] for r in rows} == {f.family}


def test_train_split_refuses_a_test_only_face(tmp_path, capsys):
    chouk = face(CURSIVE_TEST_ONLY)
    code = synth_main(["--out", str(tmp_path), "--font", chouk.path, "--train-only", "--num-docs", "2"])
    assert code == 2 and "test-only Tibetan faces cannot be used for training" in capsys.readouterr().err
    assert not (tmp_path / "train.jsonl").exists()


def test_gettext_text_is_evaluation_only():
    try:
        sampler = mo_text_sampler()
    except FileNotFoundError:
        pytest.skip("no Tibetan-script .mo catalog on this machine")
    assert sampler.reserved and sampler.words and all(syllables(w) == [w] for w in sampler.words[:50])
    with pytest.raises(ValueError, match="reserved for evaluation"):
        check_training_text(sampler, "train")
    check_training_text(sampler, "test")
    check_training_text(bospell_words(), "train")  # dictionary text is training text
    assert mo_messages([]) == []


def test_long_lines_and_syllable_sequences():
    sampler = bospell_words(syllable_fraction=1.0)
    known = set(bospell_syllables()[0])
    line = sampler.line(random.Random(0), 36, 36)
    assert len(syllables(line)) == 72 and set(syllables(line)) <= known  # a pecha-length line


def test_same_seed_same_dataset(tmp_path, print_face):
    args = ["--num-docs", "3", "--lines-per-doc", "2", "--seed", "5", "--max-words", "3", "--font", print_face.path]
    synth_main(["--output-dir", str(tmp_path / "a"), *args])
    synth_main(["--out", str(tmp_path / "b"), *args])
    for split in ("train", "val", "test"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_text() == (tmp_path / "b" / f"{split}.jsonl").read_text()
    first = sorted((tmp_path / "a" / "images").rglob("*.png"))[0]
    assert first.read_bytes() == (tmp_path / "b" / first.relative_to(tmp_path / "a")).read_bytes()


def test_any_script_with_font_and_text_file(tmp_path, latin_font):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog again and again", encoding="utf-8")
    assert text_file_words(corpus).separator == " "
    synth_main(["--output-dir", str(tmp_path / "ds"), "--font", f"{latin_font}:print", "--text-file", str(corpus),
                "--num-docs", "3", "--lines-per-doc", "2", "--styles", "print=1"])
    records = read_manifest(tmp_path / "ds" / "train.jsonl").records
    assert records and all(set(r.text.split()) <= set(corpus.read_text().split()) for r in records)


def test_degradation_is_seeded_and_darkens_paper(print_face):
    clean = render_line("\u0f40\u0f0b\u0f41\u0f0b", print_face.path, 32)
    heavy = Degradation(blur=1.0, noise=20, bleed=3, skew=2.0, downscale=0.5, paper=200, ink=40)
    a = np.asarray(degrade(clean, heavy, random.Random(1)))
    b = np.asarray(degrade(clean, heavy, random.Random(1)))
    assert np.array_equal(a, b)
    assert abs(float(np.median(a)) - 200) < 25


def test_scan_damage_curves_fades_binarises_and_compresses(print_face):
    clean = render_line("\u0f40\u0f0b\u0f41\u0f0b\u0f42\u0f0b\u0f44\u0f0b", print_face.path, 32)
    curved = degrade(clean, Degradation(curve=3.0), random.Random(2))
    assert curved.height > clean.height  # room for the arc
    bitonal = np.asarray(degrade(clean, Degradation(binarize=True, uneven=0.5), random.Random(2)))
    assert set(np.unique(bitonal)) <= {0, 255}
    jpeg = np.asarray(degrade(clean, Degradation(jpeg=20), random.Random(2)))
    assert jpeg.shape == np.asarray(clean).shape and len(np.unique(jpeg)) > 2  # JPEG ringing adds greys


def test_binarising_a_faded_blurred_line_keeps_its_strokes(print_face):
    """A fixed threshold once erased whole low-contrast lines (val "degraded" lines with no text
    left); the threshold follows the line's own ink, so most strokes survive."""
    clean = render_line("\u0f40\u0f0b\u0f41\u0f0b\u0f42\u0f0b\u0f44\u0f0b", print_face.path, 28)
    faded = Degradation(blur=1.2, downscale=0.5, uneven=0.55, binarize=True)
    kept = (np.asarray(degrade(clean, faded, random.Random(3))) < 128).sum()
    assert kept >= 0.5 * (np.asarray(clean) < 128).sum()
