"""Transcription index + hybrid search with a real (tiny) CTC model, through the command line."""

import json
import shutil
import subprocess
import sys

import pytest
from safetensors.torch import load_file, save_file

from hieralign.cli import main as cli_main
from hieralign.index.ocr_search import OcrSearcher, match_span


@pytest.fixture(scope="module")
def ocr_index(ctc_model_dir, tmp_path_factory):
    model, data = ctc_model_dir
    out = tmp_path_factory.mktemp("ocr") / "index"
    assert cli_main(["index", "build", "--model", str(model), "--manifest", str(data / "train.jsonl"),
                     "--out", str(out), "--copy-images"]) == 0
    return out


def test_build_stores_transcripts_outputs_and_provenance(ocr_index, ctc_model_dir):
    _, data = ctc_model_dir
    card = json.loads((ocr_index / "index.json").read_text())
    assert card["format"] == "transcripts" and card["lines"] == 8 and len(card["model_hash"]) == 16
    rows = [json.loads(x) for x in (ocr_index / "lines.jsonl").read_text().splitlines()]
    references = [json.loads(x)["text"] for x in (data / "train.jsonl").read_text().splitlines()]
    assert [r["reference"] for r in rows] == references and [r["line_no"] for r in rows] == list(range(1, 9))
    assert all((ocr_index / r["image"]).is_file() and r["manifest"].endswith("train.jsonl") for r in rows)
    assert (ocr_index / "ctc_outputs.npz").is_file() and (ocr_index / "ngrams.npz").is_file()


def test_text_search_reranks_and_shows_the_matched_span(ocr_index, ctc_model_dir, capsys):
    model, _ = ctc_model_dir
    searcher = OcrSearcher.from_dir(model, ocr_index)
    longest = max(range(8), key=lambda i: len(searcher.index.texts[i]))
    text = searcher.index.texts[longest]
    assert len(text) >= 4, searcher.index.texts  # the tiny model reads something
    hits = searcher.search_text(text, k=3)["lines"]
    assert hits[0]["text"] == text and hits[0]["span"] == [0, len(text)]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    inner = text[1:-1]
    assert cli_main(["search", "--model", str(model), "--index", str(ocr_index), "--text", inner,
                     "--format", "json"]) == 0
    top = json.loads(capsys.readouterr().out)["results"][0]
    assert top["text"] == text and top["text"][top["span"][0]:top["span"][1]] == inner


def test_image_search_decodes_then_finds_the_nearest_transcriptions(ocr_index, ctc_model_dir, capsys):
    model, _ = ctc_model_dir
    row = json.loads((ocr_index / "lines.jsonl").read_text().splitlines()[0])
    assert cli_main(["search", "--model", str(model), "--index", str(ocr_index), "--image",
                     str(ocr_index / row["image"]), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    read = out["transcription"]["text"]
    assert read == OcrSearcher.from_dir(model, ocr_index).index.texts[0]
    assert out["results"][0]["text"] == read


def test_an_index_built_by_another_model_is_refused(ocr_index, ctc_model_dir, tmp_path, capsys):
    model, _ = ctc_model_dir
    other = tmp_path / "other"
    shutil.copytree(model, other, ignore=shutil.ignore_patterns("*.state.pt", "epoch_*"))
    weights = load_file(other / "model.safetensors")
    first = sorted(weights)[0]
    weights[first] = weights[first] + 1
    save_file(weights, other / "model.safetensors")
    assert cli_main(["search", "--model", str(other), "--index", str(ocr_index), "--text", "ཀ"]) == 2
    err = capsys.readouterr().err
    assert "built by another model" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    copy = tmp_path / "copy"  # the same weights in another folder are the same model
    shutil.copytree(model, copy, ignore=shutil.ignore_patterns("*.state.pt", "epoch_*"))
    assert cli_main(["search", "--model", str(copy), "--index", str(ocr_index), "--text", "ཀ"]) == 0


def test_add_and_info(ocr_index, ctc_model_dir, tmp_path, capsys):
    model, data = ctc_model_dir
    grown = tmp_path / "grown"
    shutil.copytree(ocr_index, grown)
    assert cli_main(["index", "add", "--index", str(grown), "--model", str(model),
                     "--manifest", str(data / "train.jsonl")]) == 0
    capsys.readouterr()
    assert cli_main(["index", "info", "--index", str(grown)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["lines"] == 16 and info["format"] == "transcripts"
    searcher = OcrSearcher.from_dir(model, grown)
    assert searcher.index.texts[8:] == searcher.index.texts[:8]


def test_text_search_does_not_import_torch(ocr_index, ctc_model_dir):
    model, _ = ctc_model_dir
    code = ("import sys; from hieralign.cli import main; "
            f"rc = main(['search', '--model', {str(model)!r}, '--index', {str(ocr_index)!r}, '--text', 'ཀ་']); "
            "assert rc == 0 and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:5]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_match_span_finds_a_phrase_with_a_typo():
    assert match_span("cdXfgh", "aabcdefghij") == [3, 9]
    text = "བཀྲ་ཤིས་བདེ་ལེགས"
    start, end = match_span("ཤིས་བདེ", text)
    assert text[start:end] == "ཤིས་བདེ"
    assert match_span("", "abc") is None
