"""The demo's line step: the shipped line-OCR model reads and searches its sample lines (here a
tiny model and index stand in for the shipped ones), or says clearly that none is shipped."""

from hieralign import defaults
from hieralign.demo import line_samples


def test_line_step_transcribes_and_searches_the_shipped_sample_index(ctc_model_dir, tmp_path, monkeypatch, capsys):
    import shutil

    from hieralign.index.ocr_index import BuildOptions, build_ocr_index

    model, data = ctc_model_dir
    shipped = tmp_path / "line-ocr"
    shutil.copytree(model, shipped, ignore=shutil.ignore_patterns("*.state.pt", "epoch_*"))
    build_ocr_index(shipped, [str(data / "train.jsonl")], shipped / "index", BuildOptions(copy_images=True))
    monkeypatch.setattr(defaults, "SHIPPED_LINE_OCR_MODEL", shipped)
    monkeypatch.setattr(defaults, "SHIPPED_LINE_OCR_INDEX", shipped / "index")
    result = line_samples(limit=4)
    assert len(result["lines"]) == 4 and all(x["reference"] for x in result["lines"])
    assert 0 <= result["cer"] < 0.9 and result["query"] and result["hits"]


def test_line_step_is_skipped_with_a_message_when_nothing_ships(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(defaults, "SHIPPED_LINE_OCR_MODEL", tmp_path / "none")
    assert line_samples() == {}
    assert "skipping the line step" in capsys.readouterr().out
