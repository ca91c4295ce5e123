import json
import unicodedata

import pytest
from PIL import Image

from hieralign.data.lines.manifest import ManifestError, normalize_text, read_manifest, write_manifest


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def images(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        Image.new("L", (20, 8), 255).save(tmp_path / name)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    return tmp_path


def test_aliases_are_read(images):
    rows = [{"line_path": "a.png", "text": "x"}, {"src__image": "b.png", "src__label": "y", "doc_id": "d1"},
            {"image": "c.png", "label": "z"}, {"image_path": "a.png", "transcription": "w"},
            {"path": "b.png", "line_text": "v", "source": "s"}, {"line_image": "c.png", "text": "u", "style": "print"}]
    _write(images / "m.jsonl", rows)
    report = read_manifest(images / "m.jsonl", images)
    assert [r.text for r in report.records] == ["x", "y", "z", "w", "v", "u"]
    assert [r.image_path for r in report.records] == ["a.png", "b.png", "c.png", "a.png", "b.png", "c.png"]
    assert report.records[1].source == "d1" and report.records[4].source == "s"
    assert report.records[5].style == "print"


def test_missing_images_are_counted_not_dropped_silently(images):
    rows = [{"line_path": "a.png", "text": "ok"}, {"line_path": "gone.png", "text": "lost"},
            {"line_path": "broken.png", "text": "bad"}, {"text": "no image"}]
    _write(images / "m.jsonl", rows)
    report = read_manifest(images / "m.jsonl", images, verify_images=True)
    assert len(report.records) == 1
    assert len(report.missing) == 1 and "m.jsonl:2" in report.missing[0] and "gone.png" in report.missing[0]
    assert len(report.unreadable) == 1 and "broken.png" in report.unreadable[0]
    assert len(report.skipped_rows) == 1
    assert "1 missing" in report.summary()


def test_strict_names_file_and_line(images):
    _write(images / "m.jsonl", [{"line_path": "a.png", "text": "ok"}, {"line_path": "gone.png", "text": "x"}])
    with pytest.raises(ManifestError, match=r"m\.jsonl:2: missing image .*gone\.png"):
        read_manifest(images / "m.jsonl", images, strict=True)


def test_bad_json_names_line(images):
    (images / "m.jsonl").write_text('{"line_path": "a.png", "text": "ok"}\n{oops\n', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"m\.jsonl:2"):
        read_manifest(images / "m.jsonl", images)


def test_text_is_nfc_and_whitespace_collapsed(images):
    decomposed = unicodedata.normalize("NFD", "é")
    tibetan_decomposed = "\u0f40\u0f71\u0f72"  # KA + AA + I: NFC reorders/recomposes nothing here but must be stable
    assert normalize_text(f"  {decomposed}  a\t\nb ") == "é a b"
    assert normalize_text(tibetan_decomposed) == unicodedata.normalize("NFC", tibetan_decomposed)
    assert normalize_text("\u0f73") == unicodedata.normalize("NFC", "\u0f73")
    _write(images / "m.jsonl", [{"line_path": "a.png", "text": f"{decomposed}   x"}])
    assert read_manifest(images / "m.jsonl", images).records[0].text == "é x"


def test_round_trip(images):
    _write(images / "m.jsonl", [{"line_path": "a.png", "text": "x", "source": "d", "split": "train", "font": "F"}])
    records = read_manifest(images / "m.jsonl", images).records
    write_manifest(images / "copy.jsonl", records)
    again = read_manifest(images / "copy.jsonl", images).records
    assert again[0].text == "x" and again[0].source == "d" and again[0].split == "train"
    assert again[0].extra == {"font": "F"}


def test_paths_leaving_the_dataset_folder_are_refused(tmp_path):
    data = tmp_path / "ds"
    (data / "test_sets" / "print").mkdir(parents=True)
    Image.new("L", (20, 8), 255).save(data / "a.png")
    Image.new("L", (20, 8), 255).save(tmp_path / "outside.png")
    _write(data / "m.jsonl", [{"line_path": "../outside.png", "text": "x"}])
    with pytest.raises(ManifestError, match=r"m\.jsonl:1: image path '\.\./outside\.png' leads outside"):
        read_manifest(data / "m.jsonl")
    _write(data / "abs.jsonl", [{"line_path": str(tmp_path / "outside.png"), "text": "x"}])
    with pytest.raises(ManifestError, match="outside"):
        read_manifest(data / "abs.jsonl", data)
    assert len(read_manifest(data / "abs.jsonl", data, allow_outside=True).records) == 1
    # a synthesised dataset's per-face test sets point two folders up, inside the dataset card's folder
    (data / "dataset.json").write_text("{}")
    _write(data / "test_sets" / "print" / "f.jsonl", [{"line_path": "../../a.png", "text": "x"}])
    assert len(read_manifest(data / "test_sets" / "print" / "f.jsonl").records) == 1
