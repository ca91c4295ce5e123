import json

import pytest
import torch
from PIL import Image

from hieralign.cli import main as cli_main
from hieralign.models.line.ctc import LineRecognizer, LineRecognizerConfig


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("ocr") / "model"
    LineRecognizer(LineRecognizerConfig(charset="\u0f0b\u0f40\u0f41", lstm_hidden=16)).save_pretrained(out)
    return out


def _line(path, width=200):
    image = Image.new("L", (width, 50), 240)
    image.paste(10, (20, 10, width - 20, 40))
    image.save(path)
    return path


def test_transcribe_manifest_to_jsonl(tmp_path, model_dir, capsys):
    _line(tmp_path / "a.png")
    _line(tmp_path / "b.png", 300)
    (tmp_path / "m.jsonl").write_text(json.dumps({"line_path": "a.png", "text": "\u0f40\u0f0b"}) + "\n"
                                      + json.dumps({"line_path": "b.png", "text": "\u0f41"}) + "\n")
    assert cli_main(["transcribe", str(tmp_path / "m.jsonl"), "--model", str(model_dir), "--format", "jsonl",
                     "--beam", "3"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["reference"] for r in rows] == ["\u0f40\u0f0b", "\u0f41"]
    assert all({"text", "score", "cer", "image"} <= set(r) for r in rows)


def test_transcribe_folder_as_text_with_a_lexicon_file(tmp_path, model_dir, capsys):
    _line(tmp_path / "imgs" / "x.png" if (tmp_path / "imgs").mkdir() is None else None)
    (tmp_path / "lex.txt").write_text("\u0f40\n")
    assert cli_main(["transcribe", str(tmp_path / "imgs"), "--model", str(model_dir), "--lexicon",
                     str(tmp_path / "lex.txt"), "--out", str(tmp_path / "o.txt")]) == 0
    assert len((tmp_path / "o.txt").read_text(encoding="utf-8").splitlines()) == 1


def test_transcribe_errors_are_one_line(tmp_path, model_dir, capsys, monkeypatch):
    assert cli_main(["transcribe", str(tmp_path / "nope.png"), "--model", str(model_dir)]) == 2
    assert "no such image" in capsys.readouterr().err
    monkeypatch.setenv("HIERALIGN_LINE_OCR_MODEL", str(tmp_path / "missing"))
    _line(tmp_path / "a.png")
    import hieralign.defaults as d

    monkeypatch.setattr(d, "SHIPPED_LINE_OCR_MODEL", tmp_path / "not-shipped")
    assert cli_main(["transcribe", str(tmp_path / "a.png")]) == 2
    assert "no line-OCR model" in capsys.readouterr().err
