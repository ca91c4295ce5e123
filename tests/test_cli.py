import subprocess
import sys

import pytest

from hieralign import cli


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_suggests_group(capsys):
    assert cli.main(["train", "nope"]) == 2
    err = capsys.readouterr().err
    assert "train char" in err and "train line" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["train", "char", "--x"], ("train char", ["--x"])), (["recognize", "a.png"], ("recognize", ["a.png"]))],
)
def test_resolve_prefers_two_word_commands(argv, expected):
    assert cli.resolve(argv) == expected


def test_every_command_module_imports_and_has_main():
    import importlib

    for name, (module, _) in cli.COMMANDS.items():
        mod = importlib.import_module(module)
        assert callable(getattr(mod, "main", None)), f"{name}: {module}.main missing"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "hieralign.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip()


def test_user_errors_end_in_one_line_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "ETL9G_01"
    bad.write_bytes(b"\x00" * 100)  # shorter than one 8,199-byte record
    code = cli.main(["data", "import", "--format", "etl9g", str(bad), "--out", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2
    assert "ETL9G_01" in err and "offset" in err and "Traceback" not in err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    code = cli.main(["eval", "char", "--checkpoint", str(tmp_path / "none.safetensors"), "--data-dir", str(tmp_path)])
    assert code == 2
    assert "none.safetensors" in capsys.readouterr().err
