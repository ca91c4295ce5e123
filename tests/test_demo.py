"""The README's main command, shrunk: every step runs for real, on a small class subset."""

import json

import pytest

from hieralign import cli, defaults


@pytest.mark.slow
def test_demo_runs_end_to_end_and_resumes(tmp_path, capsys):
    argv = ["demo", "--workdir", str(tmp_path), "--seen", "500", "--hw-per-char", "1",
            "--train-minutes", "0.2", "--epochs", "1", "--batch-size", "64"]
    assert cli.main(argv) == 0
    results = json.loads((tmp_path / "demo_results.json").read_text())
    handwriting = results["eval"]["unseen-handwriting"]["overall"]
    assert handwriting["n"] == 1000  # every unseen kanji, none of them trained on
    assert 0.0 <= handwriting["top1"] <= handwriting["top5"] <= 1.0
    samples = results["samples"]
    assert len(samples) == len(defaults.sample_images()) > 0
    assert all(len(s["top5"]) == 5 for s in samples)
    assert "zero-shot eval (unseen kanji)" in capsys.readouterr().out
    # a second run finds the stores and the checkpoint and does not render again
    assert cli.main(argv) == 0
    assert "data build" not in capsys.readouterr().out
