"""The one `hieralign` console script.

Every subcommand is a `main(argv) -> int` function in its own module, imported only when it
is called, so `hieralign --help` stays fast and a missing extra only breaks its own command.
"""

from __future__ import annotations

import importlib
import sys

# command words -> (module, one-line help). Two-word commands are written "group sub".
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("hieralign.demo", "set up nothing, run the main job end to end on the default data"),
    "coverage": ("hieralign.knowledge.coverage", "IDS / stroke coverage table per charset"),
    "data build": ("hieralign.data.build", "render a glyph dataset (printed fonts + handwriting)"),
    "data fonts": ("hieralign.data.fonts_cli", "list discovered font families and their role"),
    "data import": ("hieralign.data.import_cli", "convert ETL9G/ETL8G/CASIA/seed-npz data to a glyph store"),
    "data lines": ("hieralign.data.lines.synth_cli", "synthesise a line-image dataset with JSONL manifests"),
    "train char": ("hieralign.train.char_cli", "train HierCode / Hi-GITA on a glyph store"),
    "train line": ("hieralign.train.line_cli", "train the line-CLIP dual encoder"),
    "train line-ocr": ("hieralign.train.line_ctc_cli", "train the CTC line recogniser (transcription)"),
    "train-text-hierarchy-vit": ("hieralign.train.line_cli", "seed-compatible alias of `train line`"),
    "eval char": ("hieralign.eval.char_cli", "zero-shot / closed-set character evaluation"),
    "eval line": ("hieralign.index.eval_cli", "line evaluation: retrieval R@k/MRR, and CER/WER for a line-OCR model"),
    "transcribe": ("hieralign.transcribe", "transcribe line images (CTC line recogniser): text or JSONL"),
    "recognize": ("hieralign.recognize", "recognise character images (top-k with decompositions)"),
    "search": ("hieralign.index.search_cli", "search lines by text or image"),
    "index": ("hieralign.index.cli", "build / add to / inspect an embedding index"),
    "export": ("hieralign.export.cli", "export towers to ONNX (optionally INT8)"),
    "serve": ("hieralign.serve.cli", "HTTP API + workbench page"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: hieralign <command> [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run `hieralign <command> --help` for a command's options."]
    return "\n".join(lines)


def _group_usage(word: str, names: list[str]) -> str:
    width = max(len(name) for name in names)
    lines = [f"usage: hieralign {word} <subcommand> [options]", "", "subcommands:"]
    lines += [f"  {name.ljust(width)}  {COMMANDS[name][1]}" for name in names]
    lines += ["", f"Run `hieralign {word} <subcommand> --help` for its options."]
    return "\n".join(lines)


def resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    """Return (command name, remaining argv) for the longest matching command."""
    if len(argv) >= 2 and f"{argv[0]} {argv[1]}" in COMMANDS:
        return f"{argv[0]} {argv[1]}", argv[2:]
    if argv and argv[0] in COMMANDS:
        return argv[0], argv[1:]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from hieralign import __version__

        print(__version__)
        return 0
    group = [n for n in COMMANDS if n.startswith(argv[0] + " ")]
    if group and (len(argv) == 1 or argv[1] in ("-h", "--help", "help")):
        asked = len(argv) > 1
        print(_group_usage(argv[0], group), file=sys.stdout if asked else sys.stderr)
        return 0 if asked else 2
    found = resolve(argv)
    if found is None:
        hint = f" (did you mean: {', '.join(group)}?)" if group else ""
        print(f"hieralign: unknown command {' '.join(argv[:2])!r}{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    name, rest = found
    module = importlib.import_module(COMMANDS[name][0])
    if name == "train-text-hierarchy-vit":
        rest = ["--seed-alias", *rest]
    return _run(name, module.main, rest)


def _run(name: str, command_main, argv: list[str]) -> int:
    """Run a subcommand; input problems the user can fix end in one clear line, not a traceback.

    Only `UserError` (hieralign.errors) and missing/wrong paths are shortened: any other
    exception is a bug and keeps its traceback.
    """
    from hieralign.errors import UserError

    try:
        return int(command_main(argv) or 0)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UserError) as exc:
        print(f"hieralign {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hieralign {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hieralign ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
