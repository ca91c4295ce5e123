"""The README's main command, shrunk: every step runs for real, on a small class subset."""

import json
import pathlib
import re

import pytest

from hieralign import cli, defaults


@pytest.mark.slow
def test_demo_budget_is_steps_not_minutes_and_states_its_duration():
    from hieralign.demo import DemoConfig, build_parser, estimate_minutes

    assert "--train-minutes" not in build_parser().format_help()
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    promised = int(re.search(r"make demo .*\(~(\d+) min\)", readme).group(1))
    assert 0.5 * promised <= estimate_minutes(DemoConfig()) <= 1.5 * promised  # what the README promises


def test_demo_runs_end_to_end_and_resumes(tmp_path, capsys):
    argv = ["demo", "--workdir", str(tmp_path), "--seen", "500", "--hw-per-char", "1",
            "--steps-per-epoch", "2", "--epochs", "1", "--batch-size", "64"]
    assert cli.main(argv) == 0
    results = json.loads((tmp_path / "demo_results.json").read_text())
    handwriting = results["eval"]["unseen-handwriting"]["overall"]
    assert handwriting["n"] == 1000  # every unseen kanji, none of them trained on
    assert 0.0 <= handwriting["top1"] <= handwriting["top5"] <= 1.0
    samples = results["samples"]
    assert len(samples) == len(defaults.sample_images()) > 0
    assert all(len(s["top5"]) == 5 for s in samples)
    out = capsys.readouterr().out
    assert "zero-shot eval (unseen kanji)" in out and "re-run" not in out
    assert "hieralign demo: about" in out.splitlines()[0] and "fixed 2 steps" in out.splitlines()[0]
    # a second run finds the stores and the checkpoint and does not render again
    assert cli.main(argv) == 0
    assert "data build" not in capsys.readouterr().out
