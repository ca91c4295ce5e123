"""One CLI vocabulary: --out / --model / --data, the seed's spellings as aliases, help on every flag."""

import argparse

import pytest

from hieralign.cli import main as cli_main
from hieralign.eval import char_cli as eval_char
from hieralign.eval import line_cli as eval_line
from hieralign.index import cli as index_cli
from hieralign.index import search_cli
from hieralign.train import char_cli, line_cli


@pytest.mark.parametrize("group", ["data", "train", "eval"])
def test_group_help_lists_subcommands_and_exits_0(group, capsys):
    assert cli_main([group, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"hieralign {group} <subcommand>" in out and f"{group} " in out


def _parsers():
    yield char_cli.build_parser()
    yield line_cli.build_parser()
    yield eval_char.build_parser()
    yield eval_line.build_parser()
    yield search_cli.build_parser()
    top = index_cli.build_parser()
    yield top
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    yield from sub.choices.values()


@pytest.mark.parametrize("parser", list(_parsers()), ids=lambda p: p.prog)
def test_every_flag_has_help_and_shows_its_default(parser):
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{parser.prog} {action.option_strings}: no help"
    text = parser.format_help()
    optional = [a for a in parser._actions if a.option_strings and not a.required and a.help != argparse.SUPPRESS
                and not isinstance(a, argparse._HelpAction)]
    if optional:
        assert "(default:" in text


def test_seed_spellings_are_aliases_of_the_primary_flags():
    task, engine = char_cli.parse_config(["--data-dir", "s", "--checkpoint-dir", "o"])
    assert (task.data, engine.out) == ("s", "o")
    task, engine = char_cli.parse_config(["--data", "s", "--out", "o"])
    assert (task.data, engine.out, engine.final_lr_ratio, engine.batch_size) == ("s", "o", 0.01, 256)
    seed = ["--seed-alias", "--train-mode", "line_clip", "--dataset-dir", "d", "--train-manifest", "t.jsonl",
            "--output-dir", "o", "--model-name-or-path", "tiny", "--num-train-epochs", "3",
            "--checkpoint-every-steps", "7", "--keep-checkpoints", "4", "--resume", "auto", "--index-manifest", "a",
            "--index-manifest", "b"]
    task, engine = line_cli.parse_args(seed)
    assert (task.data, task.model, task.index_manifests) == ("d", "tiny", ["a", "b"])
    assert (engine.out, engine.epochs, engine.checkpoint_every, engine.keep_last, engine.resume_from) == ("o", 3, 7, 4, "")
    new = line_cli.parse_args(["--data", "d", "--train-manifest", "t.jsonl", "--out", "o", "--model", "tiny"])
    assert (new[0].data, new[0].model, new[1].out, new[1].checkpoint_every) == ("d", "tiny", "o", 500)
    assert eval_line.build_parser().parse_args(["--model", "m", "--manifest", "x", "--dataset-dir", "d",
                                                "--json", "r"]).out == "r"
    assert index_cli.build_parser().parse_args(["build", "--model", "m", "--output", "o"]).out == "o"
    seed_eval = eval_char.build_parser().parse_args(["--checkpoint", "c", "--data-dir", "d"])
    new_eval = eval_char.build_parser().parse_args(["--model", "c", "--data", "d"])
    assert (seed_eval.model, seed_eval.data) == (new_eval.model, new_eval.data) == ("c", "d")


def test_bad_train_line_values_are_one_line_and_exit_2(tmp_path, capsys):
    code = cli_main(["train-text-hierarchy-vit", "--train-mode", "other", "--train-manifest", str(tmp_path / "t"),
                     "--output-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "only line_clip" in err
