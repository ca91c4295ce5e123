"""Keep the docs honest: the commands, flags and links they show must exist.

- every `hieralign <command>` written in code (fenced blocks or `inline code`) in README.md,
  docs/*.md and benchmarks/README.md is a command of `hieralign.cli.COMMANDS` (or a subcommand
  its --help lists), and every `--flag` written after it on that command line is in that
  command's --help (run in-process);
- every relative link `[text](path)` / `![alt](path)` in those files points to an existing file;
- every command line of the README's "Use it" block parses with that command's own parser, and
  `--help` of each of its commands exits 0;
- the README's Python snippets run as written, against the shipped model;
- benchmarks/run_all.py runs every benchmark script and renders its report from JSON.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from hieralign.cli import COMMANDS, main, resolve

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")])
DOCS = [d for d in DOCS if d.exists()]

# `hieralign` as a program: at a line start, after whitespace, a backtick, `(` or `bin/`.
INVOCATION = re.compile(r"(?:^|(?<=[\s`(])|(?<=bin/))hieralign(?=\s+[a-z])")
SEGMENT_END = {"|", "||", ";", "&&", ">", ">>", "2>&1", "&"}
FLAG = re.compile(r"--[A-Za-z0-9][\w-]*")


def code_lines(text: str) -> list[str]:
    """Logical command lines in fenced blocks (backslash continuations joined) and inline spans."""
    lines, fenced, block = [], False, text.splitlines()
    for line in block:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1] + " " + line.strip()
            else:
                lines.append(line)
        else:
            lines += re.findall(r"`([^`\n]+)`", line)
    return lines


def invocations(doc: Path) -> list[tuple[list[str], str]]:
    """(tokens after `hieralign` up to the end of that shell command, the code line)."""
    found = []
    for line in code_lines(doc.read_text(encoding="utf-8")):
        for match in INVOCATION.finditer(line):
            tokens = []
            for token in line[match.end():].split():
                if token in SEGMENT_END or token.startswith("#"):
                    break
                tokens.append(token.strip("[]`,"))
            found.append((tokens, line.strip()))
    return found


@functools.cache
def help_text(*argv: str) -> str:
    """`hieralign ARGV --help`, run in-process."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            main([*argv, "--help"])
        except SystemExit:
            pass
    return buf.getvalue()


def check_invocation(tokens: list[str]) -> list[str]:
    """Problems with one documented command line (empty when it is right)."""
    for i, token in enumerate(tokens[:2]):
        if "|" in token and not token.startswith("-"):  # `data build|import|fonts`: check each
            return [p for alt in token.split("|") for p in check_invocation([*tokens[:i], alt, *tokens[i + 1:]])]
    words = [t for t in tokens[:2] if re.fullmatch(r"[a-z][\w|-]*", t)]
    if not words or tokens[0].startswith("<"):
        return []  # a placeholder such as `hieralign <command>`
    found = resolve(words[:2]) or resolve(words[:1])
    if found is None:
        return [f"`hieralign {' '.join(words)}` is not a command (hieralign.cli.COMMANDS)"]
    name, rest = found
    command = name.split()
    rest_words = words[len(command):len(command) + 1]
    base_help = help_text(*command)
    listed = re.search(r"\{([\w,-]+)\}", base_help)  # a subcommand such as `index build`
    subs = [w for w in rest_words if listed and w in listed.group(1).split(",")]
    problems = []
    helps = [help_text(*command, s) for s in subs] or [base_help]
    accepted = {f for h in helps for f in FLAG.findall(h)}
    for token in tokens:
        flag = FLAG.match(token)
        if flag and flag.group(0) not in accepted:
            problems.append(f"`hieralign {' '.join([name, *subs])}` has no option {flag.group(0)}")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_and_flags_exist(doc: Path):
    problems = []
    for tokens, line in invocations(doc):
        problems += [f"{p}   (in: {line[:120]})" for p in check_invocation(tokens)]
    assert not problems, f"{doc.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files(doc: Path):
    broken = []
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:|#", target):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken relative links: {broken}"


def test_checker_catches_wrong_commands_and_flags():
    """The checker itself: a made-up command and a made-up flag are reported, real ones are not."""
    assert check_invocation(["recognize", "img.png", "--top-k", "5", "--backend", "onnx"]) == []
    assert check_invocation(["index", "build", "--model", "m", "--output", "o"]) == []
    assert check_invocation(["index", "build|add|info"]) == []
    assert check_invocation(["recognise", "x.png"])  # misspelt command
    assert check_invocation(["recognize", "x.png", "--no-such-flag"])
    assert check_invocation(["index", "info", "--model", "m"])  # --model belongs to build/add, not info
    assert all(name.split()[0] in help_text() for name in COMMANDS)


README = ROOT / "README.md"


def readme_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in `language`, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def use_it_commands() -> list[list[str]]:
    """argv (after `hieralign`) of every command line in the README's "Use it" bash block."""
    section = README.read_text(encoding="utf-8").split("## Use it", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```bash\n(.*?)^```", section, flags=re.M | re.S).group(1)
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        tokens = shlex.split(line, comments=True)
        if tokens:
            assert tokens[0] == "hieralign", line
            commands.append(tokens[1:])
    return commands


@pytest.mark.parametrize("argv", use_it_commands(), ids=lambda argv: " ".join(argv[:2]))
def test_readme_use_it_commands_parse(argv):
    name, rest = resolve(argv)
    module = importlib.import_module(COMMANDS[name][0])
    help_exit = io.StringIO()
    with contextlib.redirect_stdout(help_exit), pytest.raises(SystemExit) as exit_info:
        main([*name.split(), "--help"])
    assert exit_info.value.code == 0, f"hieralign {name} --help exits {exit_info.value.code}"
    parse = getattr(module, "parse_config", None) or getattr(module, "parse_args", None)
    if parse is None and hasattr(module, "build_parser"):
        parse = module.build_parser().parse_args
    if parse is None:  # a command without a separate parser (coverage): its --help is the check
        return
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parse(rest)
        except SystemExit as exc:
            pytest.fail(f"`hieralign {' '.join(argv)}` does not parse: {err.getvalue().strip()} (exit {exc.code})")


def test_use_it_block_is_found_and_complete():
    names = {resolve(argv)[0] for argv in use_it_commands()}
    assert {"recognize", "train char", "eval char", "train line", "search", "data lines"} <= names


def test_readme_python_snippets_run(capsys):
    """Each ```python block of the README runs as written (the shipped model, a shipped sample)."""
    blocks = readme_blocks("python")
    assert blocks, "the README shows no Python"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    hits = eval(printed.strip().splitlines()[-1])  # the snippet prints one list of (char, score, decomposition)
    assert len(hits) == 5 and all(len(ch) == 1 and -1.0 <= score <= 1.0 for ch, score, _ in hits)


def _load_run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module
    spec.loader.exec_module(module)
    return module


def test_run_all_plans_every_benchmark_script():
    run_all = _load_run_all()
    planned = {s.argv[0] for s in run_all.build_plan(quick=False).steps}
    quick = {s.argv[0] for s in run_all.build_plan(quick=True).steps}
    assert planned == quick
    writers = {f"benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py")
               if re.search(r"docs/benchmarks/\w+\.json|\.json\b.*out", p.read_text(encoding="utf-8"))
               and "__main__" in p.read_text(encoding="utf-8")}
    helpers = {"benchmarks/run_all.py", "benchmarks/peers.py", "benchmarks/char_report.py"}
    assert writers - helpers <= planned, f"benchmark scripts run_all does not run: {sorted(writers - helpers - planned)}"
    for step in run_all.build_plan(quick=True).steps:
        assert "docs/" not in " ".join(step.argv), f"--quick must not write into docs/: {step.argv}"


def test_run_all_names_missing_prerequisites():
    run_all = _load_run_all()
    step = run_all.Step("peers", ["benchmarks/x.py"], modules=("no_such_module_xyz",), programs=("no-such-prog-xyz",))
    problems = run_all.missing_prerequisites([step])
    assert len(problems) == 2
    assert "no_such_module_xyz" in problems[0] and "benchmarks/x.py" in problems[0]
    assert "no-such-prog-xyz" in problems[1]
    assert run_all.main(["--only", "nope"]) == 2


def test_report_embeds_tables_and_links_plots(tmp_path: Path):
    run_all = _load_run_all()
    out = tmp_path / "docs" / "benchmarks"
    out.mkdir(parents=True)
    (out / "serve_load.json").write_text(json.dumps({"requests": 10, "latency_ms": {"p50": 1.25}}))
    (out / "peers.json").write_text(json.dumps({"cpus": 2, "glyphs": [{"engine": "t", "top1": 0.5}]}))
    (out / "char_zeroshot.json").write_text("{}")
    (out / "char_zeroshot.md").write_text("# Char\n\n| a |\n|---|\n| 1 |\n\n![p](char_zeroshot.png)\n")
    (out / "char_zeroshot.png").write_bytes(b"\x89PNG")
    report = tmp_path / "docs" / "BENCHMARKS.md"
    host = {"cores": 2, "cpu": "CPU X", "load_average": [1.0, 2.0, 3.0], "os": "Linux", "python": "3"}
    run_all.write_report(out, report, "python benchmarks/run_all.py --report-only", host, "abc123", "2026-01-01")
    text = report.read_text()
    assert "abc123" in text and "CPU X" in text and "--report-only" in text
    assert "| serve_load | 10 | 1.25 |" in text
    assert "| t | 0.5 |" in text
    assert "#### Char" in text and "](benchmarks/char_zeroshot.png)" in text
    assert "## Not measured yet" in text and "--only line" in text
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert (report.parent / target).exists(), target
