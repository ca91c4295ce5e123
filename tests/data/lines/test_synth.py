import json
import random
from collections import defaultdict

import numpy as np
from PIL import ImageFont

from hieralign.data.lines.manifest import read_manifest
from hieralign.lines.synth import Degradation, degrade, render_line, require_raqm, text_file_words
from hieralign.lines.synth_cli import main as synth_main

STACK = "\u0f66\u0f92\u0fb2\u0f74\u0f56"  # སྒྲུབ: sa + subjoined ga + subjoined ra + u + ba


def test_raqm_is_available():
    require_raqm()
    assert ImageFont.core.HAVE_RAQM


def test_raqm_stacks_tibetan(tibetan_fonts):
    """raqm substitutes the subjoined forms (a taller stack); BASIC layout draws other glyphs."""
    font_path = next(f.path for f in tibetan_fonts if f.style == "print")
    shaped = ImageFont.truetype(font_path, 40, layout_engine=ImageFont.Layout.RAQM).getbbox(STACK)
    basic = ImageFont.truetype(font_path, 40, layout_engine=ImageFont.Layout.BASIC).getbbox(STACK)
    assert shaped[3] > basic[3]
    image = render_line(STACK, font_path, 40)
    ink = np.asarray(image) < 128
    assert ink.any() and image.height > 40  # three stacked letters reach well below one letter's height


def test_dataset_splits_by_document(tiny_dataset):
    sources_per_split = defaultdict(set)
    for split in ("train", "val", "test"):
        report = read_manifest(tiny_dataset / f"{split}.jsonl", tiny_dataset, verify_images=True)
        assert report.missing == [] and report.unreadable == []
        for r in report.records:
            assert r.split == split and r.source and r.style in ("print", "cursive", "degraded")
            assert "\u0f0b" in r.text  # tsheg-separated Tibetan syllables
            sources_per_split[split].add(r.source)
    assert sources_per_split["train"] and sources_per_split["test"]
    assert not (sources_per_split["train"] & sources_per_split["test"])
    assert not (sources_per_split["train"] & sources_per_split["val"])
    assert not (sources_per_split["val"] & sources_per_split["test"])
    card = json.loads((tiny_dataset / "dataset.json").read_text())
    assert sum(card["lines_per_split"].values()) == 48


def test_same_seed_same_dataset(tmp_path, tibetan_fonts):
    args = ["--num-docs", "3", "--lines-per-doc", "2", "--seed", "5", "--max-words", "3"]
    synth_main(["--output-dir", str(tmp_path / "a"), *args])
    synth_main(["--output-dir", str(tmp_path / "b"), *args])
    for split in ("train", "val", "test"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_text() == (tmp_path / "b" / f"{split}.jsonl").read_text()
    first = sorted((tmp_path / "a" / "images").rglob("*.png"))[0]
    assert first.read_bytes() == (tmp_path / "b" / first.relative_to(tmp_path / "a")).read_bytes()


def test_any_script_with_font_and_text_file(tmp_path, latin_font):
    font = latin_font
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog again and again", encoding="utf-8")
    assert text_file_words(corpus).separator == " "
    synth_main(["--output-dir", str(tmp_path / "ds"), "--font", f"{font}:print", "--text-file", str(corpus),
                "--num-docs", "3", "--lines-per-doc", "2", "--styles", "print=1"])
    records = read_manifest(tmp_path / "ds" / "train.jsonl").records
    assert records and all(set(r.text.split()) <= set(corpus.read_text().split()) for r in records)


def test_degradation_is_seeded_and_darkens_paper(tibetan_fonts):
    clean = render_line("\u0f40\u0f0b\u0f41\u0f0b", tibetan_fonts[0].path, 32)
    heavy = Degradation(blur=1.0, noise=20, bleed=3, skew=2.0, downscale=0.5, paper=200, ink=40)
    a = np.asarray(degrade(clean, heavy, random.Random(1)))
    b = np.asarray(degrade(clean, heavy, random.Random(1)))
    assert np.array_equal(a, b)
    assert abs(float(np.median(a)) - 200) < 25
