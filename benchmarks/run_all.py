"""Run every benchmark, then regenerate docs/BENCHMARKS.md from the JSON they write.

    python benchmarks/run_all.py                      # the documented full configuration (hours)
    python benchmarks/run_all.py --quick              # small smoke run (minutes), into runs/bench_quick/
    python benchmarks/run_all.py --only serve,peers   # groups: char, line, serve, peers
    python benchmarks/run_all.py --report-only        # only rebuild docs/BENCHMARKS.md
    python benchmarks/run_all.py --dry-run            # print the commands, run nothing

Each benchmark is its own script (benchmarks/README.md); this file only calls them in child
processes and renders their JSON. A full run writes into docs/benchmarks/ and docs/BENCHMARKS.md;
--quick writes into runs/bench_quick/ so a smoke run never overwrites documented numbers.
A missing prerequisite (Tesseract, a Python package) stops the run before anything starts, with
what to install. Every command run is logged with date, machine and commit in run_all.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("char", "line", "serve", "peers")
GROUP_TITLES = {"char": "Character zero-shot (ETL9G-ZS) and speed", "line": "Tibetan line retrieval and speed",
                "serve": "HTTP API: load and bad input", "peers": "Peer OCR engines (Tesseract, RapidOCR)"}
SETUP_HINT = "run `make bench-setup` (apt-packages-bench.txt + the [bench] extra) first"


@dataclass
class Step:
    """One child-process command of a benchmark group."""

    group: str  # one of GROUPS
    argv: list[str]  # command after the Python interpreter (script path first)
    modules: tuple[str, ...] = ()  # Python modules that must import
    programs: tuple[str, ...] = ()  # executables that must be on PATH
    paths: tuple[str, ...] = ()  # files (relative to ROOT) that must exist before the run starts
    skip_if: str = ""  # path (relative to ROOT) whose existence means the step is already done
    note: str = ""  # why this step exists, shown in --dry-run


@dataclass
class Plan:
    """Where a run writes and what it runs."""

    out_dir: Path  # the per-benchmark JSON / md / png folder
    report: Path  # the generated markdown report
    work: str  # scratch folder (relative to ROOT) for stores, models, caches
    steps: list[Step] = field(default_factory=list)  # in run order


def _line_steps(work: str, out: str, quick: bool) -> list[Step]:
    data, model = (f"{work}/lines", f"{work}/line_clip") if quick else ("runs/lines_tibetan", "runs/line_clip_small")
    synth = ["--num-docs", "12", "--lines-per-doc", "6"] if quick else ["--num-docs", "400", "--lines-per-doc", "40"]
    train = (["--model-name-or-path", "tiny", "--text-encoder-name-or-path", "tiny", "--max-steps", "20",
              "--batch-size", "8"] if quick else ["--batch-size", "32", "--lr", "5e-4", "--max-minutes", "60"])
    cli = ["-m", "hieralign.cli"]
    return [
        Step("line", [*cli, "data", "lines", "--output-dir", data, *synth], skip_if=f"{data}/test.jsonl",
             note="synthetic Tibetan lines (docs/LINES.md)"),
        Step("line", [*cli, "train", "line", "--dataset-dir", data, "--train-manifest", f"{data}/train.jsonl",
                      "--val-manifest", f"{data}/val.jsonl", "--index-manifest", f"{data}/test.jsonl",
                      "--output-dir", model, "--num-threads", "1", *train],
             skip_if=f"{model}/line_clip.json", note="the line-CLIP model the line benchmarks measure"),
        Step("line", ["benchmarks/line_retrieval.py", "--model", model, "--dataset-dir", data, "--out", out,
                      "--ocr-cache", f"{work}/tesseract_bod_test_cache.json", *(["--limit", "40"] if quick else [])],
             programs=("tesseract",)),
        *_line_ocr_steps(work, out, data, quick),
        Step("line", ["benchmarks/line_speed.py", "--model", model, "--dataset-dir", data, "--out", out,
                      *(["--lines", "32", "--threads", "1", "--faiss-sizes", "10000", "--faiss-kinds", "flat,ivf"]
                        if quick else [])], modules=("faiss",)),
    ]


def _line_ocr_steps(work: str, out: str, data: str, quick: bool) -> list[Step]:
    """The CTC line recogniser: a 20-step model on the quick data, or the shipped model."""
    if not quick:
        model = "hieralign/assets/models/line-ocr"
        return [Step("line", ["benchmarks/line_ocr.py", "--model", model, "--work", "runs/bench-line-ocr",
                              "--index-scale", "1000000", "--out", f"{out}/line_ocr.json"],
                     paths=(f"{model}/config.json",), note="CER per style/face, hybrid R@k, Tesseract, 1M first stage")]
    model = f"{work}/line_ocr"
    return [
        Step("line", ["-m", "hieralign.cli", "train", "line-ocr", "--data", data, "--out", model, "--max-steps", "20",
                      "--batch-size", "8", "--num-threads", "1"], skip_if=f"{model}/config.json",
             note="a 20-step CTC recogniser (pipeline check, not accuracy)"),
        Step("line", ["benchmarks/line_ocr.py", "--model", model, "--data", f"{data}/test.jsonl", "--limit", "40",
                      "--index-scale", "10000", "--out", f"{out}/line_ocr.json"]),
    ]


def _serve_steps(work: str, out: str, quick: bool) -> list[Step]:
    mods = ("httpx", "fastapi", "uvicorn")
    if quick:
        load = [Step("serve", ["benchmarks/serve_load.py", "--requests", "100", "--concurrency", "4",
                               "--out", f"{out}/serve_load.json"], modules=mods)]
    else:
        load = [Step("serve", ["benchmarks/serve_load.py", "--out", f"{out}/serve_load.json"], modules=mods)]
        for name, extra in (("torch", []), ("onnx", ["--backend", "onnx"]), ("onnx-int8", ["--backend", "onnx-int8"]),
                            ("torch_nobatch", ["--server-args=--batch-wait-ms 0"])):
            load.append(Step("serve", ["benchmarks/serve_load.py", "--preset", "balanced", *extra,
                                       "--out", f"{out}/serve_load_balanced_{name}.json"], modules=(*mods, "onnx")))
    soak = Step("serve", ["benchmarks/serve_soak.py", "--seconds", "20" if quick else "600",
                          "--out", f"{out}/serve_soak.json"], modules=mods)
    return [*load, soak, Step("serve", ["benchmarks/serve_bad_input.py", "--out", f"{out}/serve_bad_input.json"],
                              modules=mods), *_parity_steps(work, out, quick)]


def _parity_steps(work: str, out: str, quick: bool) -> list[Step]:
    """ONNX export vs torch agreement: of the shipped model (full) or a 5-step model (quick)."""
    cli, export = ["-m", "hieralign.cli"], f"{work}/export_parity"
    steps, needs = [], ()
    if quick:
        store, run = f"{work}/parity_store", f"{work}/parity_char"
        model = f"{run}/best.safetensors"
        steps += [
            Step("serve", [*cli, "data", "build", "--role", "train", "--seen", "500", "--styles", "printed",
                           "--limit-chars", "60", "--workers", "1", "--out", store], skip_if=f"{store}/meta.json",
                 note="a tiny store for the quick parity model"),
            Step("serve", [*cli, "train", "char", "--data-dir", store, "--checkpoint-dir", run, "--use-higita",
                           "--preset", "lite", "--seen", "500", "--epochs", "1", "--batch-size", "32",
                           "--max-steps-per-epoch", "5", "--val-classes", "10", "--num-threads", "1"],
                 skip_if=model, note="a 5-step model (speed and parity only, not accuracy)"),
        ]
    else:
        model = "hieralign/assets/models/char-higita/model.safetensors"  # the shipped default model
        needs = (model,)
    steps += [
        Step("serve", [*cli, "export", "--model", model, "--format", "onnx", "--int8", "--out", export],
             paths=needs, skip_if=f"{export}/export.json" if quick else "", modules=("onnx", "onnxruntime")),
        Step("serve", ["benchmarks/serve_export_parity.py", "--model", model, "--export", export,
                       *(["--chars", "20"] if quick else []), "--out", f"{out}/export_parity.json"],
             paths=needs, modules=("onnxruntime",)),
    ]
    return steps


def build_plan(quick: bool) -> Plan:
    """The commands of a full (documented) or --quick run, in order."""
    work = "runs/bench_quick" if quick else "runs"
    out_dir = ROOT / work / "benchmarks" if quick else ROOT / "docs" / "benchmarks"
    report = ROOT / work / "BENCHMARKS.md" if quick else ROOT / "docs" / "BENCHMARKS.md"
    out = str(out_dir.relative_to(ROOT))
    char = (["--m", "500", "--minutes-per-model", "1", "--epochs", "1", "--hw-train", "1", "--hw-eval", "1",
             "--eval-limit", "200", "--peer-limit", "20", "--work-dir", f"{work}/char"] if quick else [])
    peers = (["--glyphs", "20", "--cli-glyphs", "5", "--lines", "3", "--queries", "10"] if quick else [])
    sweep = (["--glyphs", "20", "--lines", "2"] if quick else [])
    steps = [
        Step("char", ["benchmarks/char_zeroshot.py", *char, "--out-dir", out], modules=("psutil",),
             programs=("tesseract",)),
        Step("char", ["benchmarks/char_refglyphs.py", "--limit", "20" if quick else "150", "--out", out]),
        Step("char", ["benchmarks/char_speed.py", "pipeline", *(["--images", "200", "--single", "20",
                                                                 "--peer-images", "20"] if quick else []),
                      "--out", f"{out}/char_speed.json"]),
        *_line_steps(work, out, quick),
        *_serve_steps(work, out, quick),
        Step("peers", ["benchmarks/peers_measure.py", *peers, "--out", f"{out}/peers.json"],
             modules=("rapidocr",), programs=("tesseract",)),
        Step("peers", ["benchmarks/peers_sweep.py", *sweep, "--out", f"{out}/peers_sweep.json"],
             modules=("rapidocr",), programs=("tesseract",)),
    ]
    return Plan(out_dir=out_dir, report=report, work=work, steps=steps)


def missing_prerequisites(steps: list[Step]) -> list[str]:
    """What the selected steps need and this machine lacks, one line each."""
    problems = []
    for mod in sorted({m for s in steps for m in s.modules}):
        if importlib.util.find_spec(mod) is None:
            users = sorted({s.argv[0] for s in steps if mod in s.modules})
            problems.append(f"Python package `{mod}` is not installed (needed by {', '.join(users)})")
    for prog in sorted({p for s in steps for p in s.programs}):
        if shutil.which(prog) is None:
            users = sorted({s.argv[0] for s in steps if prog in s.programs})
            problems.append(f"program `{prog}` is not on PATH (needed by {', '.join(users)})")
    for path in sorted({p for s in steps for p in s.paths}):
        if not (ROOT / path).exists():
            problems.append(f"{path} does not exist (train or fetch it first, or leave its group out with --only)")
    return problems


def machine() -> dict:
    """Cores, CPU model, load average, OS and Python of this machine."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "cpu": model, "load_average": load,
            "os": platform.platform(), "python": platform.python_version()}


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def now_utc() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def run_steps(steps: list[Step], log_path: Path, keep_going: bool) -> int:
    """Run the steps in order; append one record per command to log_path (run_all.json)."""
    log = json.loads(log_path.read_text()) if log_path.exists() else {"runs": []}
    failures = 0
    for step in steps:
        shown = "python " + " ".join(step.argv)
        if step.skip_if and (ROOT / step.skip_if).exists():
            print(f"[run_all] skip (already there: {step.skip_if}): {shown}", flush=True)
            continue
        print(f"[run_all] {shown}", flush=True)
        start, env = time.time(), {**os.environ, "PYTHONPATH": str(ROOT)}
        code = subprocess.run([sys.executable, *step.argv], cwd=ROOT, env=env).returncode
        log["runs"].append({"group": step.group, "command": shown, "date": now_utc(), "exit_code": code,
                            "seconds": round(time.time() - start, 1), "machine": machine(), "commit": git_commit()})
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(json.dumps(log, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if code:
            failures += 1
            print(f"[run_all] FAILED ({code}): {shown}", file=sys.stderr, flush=True)
            if not keep_going:
                return code
    return 1 if failures else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(GROUPS), help=f"comma list of groups: {', '.join(GROUPS)}")
    p.add_argument("--quick", action="store_true", help="small smoke sizes, written under runs/bench_quick/")
    p.add_argument("--report-only", action="store_true", help="run nothing; regenerate the report from the JSON")
    p.add_argument("--dry-run", action="store_true", help="print the commands (and missing prerequisites) only")
    p.add_argument("--keep-going", action="store_true", help="run the next benchmark when one fails")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        print(f"run_all: unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}", file=sys.stderr)
        return 2
    plan = build_plan(args.quick)
    steps = [s for s in plan.steps if s.group in groups]
    command = "python benchmarks/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if not args.report_only:
        problems = missing_prerequisites(steps)
        if args.dry_run:
            for s in steps:
                print(f"[{s.group}] python {' '.join(s.argv)}" + (f"   # {s.note}" if s.note else ""))
            print("\n".join(f"missing: {p}" for p in problems) or "all prerequisites found")
            return 0
        if problems:
            print("run_all: cannot start:\n  " + "\n  ".join(problems) + f"\n{SETUP_HINT}", file=sys.stderr)
            return 3
        code = run_steps(steps, plan.out_dir / "run_all.json", args.keep_going)
    else:
        code = 0
    write_report(plan.out_dir, plan.report, command.strip(), machine(), git_commit(), now_utc())
    print(f"[run_all] wrote {plan.report.relative_to(ROOT)}")
    return code


# ---------------------------------------------------------------- report rendering
# Scripts that write their own markdown next to their JSON are embedded as they are; the
# others are rendered generically (lists of records -> tables, scalars -> a bullet list).

def group_of(name: str) -> str:
    """Benchmark group of a docs/benchmarks file, from its name."""
    for group in GROUPS:
        if name.startswith(group):
            return group
    return "serve" if name.startswith("export") else "other"  # export_parity: the served model's export


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "..."
    return "—" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def flatten(record: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def table(rows: list[dict], first: str | None = None) -> list[str]:
    """Markdown table over the union of the rows' (flattened) keys, in first-seen order."""
    rows = [flatten(r) for r in rows]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if first:
        keys = [first] + [k for k in keys if k != first]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k in keys) + " |" for r in rows]
    return lines


def render_json(data, depth: int = 4) -> list[str]:
    """Generic markdown for one benchmark's JSON."""
    if isinstance(data, list):
        records = [d for d in data if isinstance(d, dict)]
        return table(records) if records else [_fmt(data)]
    flat_dicts = {k: v for k, v in data.items() if isinstance(v, dict) and v and not _is_block(v)}
    if len(flat_dicts) < 2:  # sibling records such as {"torch": {...}, "onnx": {...}} become one table
        flat_dicts = {}
    scalars = {k: v for k, v in data.items() if not _is_block(v) and k not in flat_dicts}
    lines = [f"- {k}: {_fmt(v)}" for k, v in flatten(scalars).items()]
    if flat_dicts:
        lines += ["", *table([{"name": k, **v} for k, v in flat_dicts.items()], first="name")]
    for key, value in data.items():
        if not _is_block(value):
            continue
        lines += ["", f"{'#' * min(depth, 6)} {key}", ""]
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            lines += table([{"name": k, **v} for k, v in value.items()], first="name")
        else:
            lines += render_json(value, depth + 1)
    return lines


def _is_block(value) -> bool:
    """A value rendered as its own table/section rather than a bullet."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values())


def embed_markdown(path: Path, link_prefix: str) -> list[str]:
    """A script's own markdown, headings pushed three levels down and relative links re-rooted."""
    import re

    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\]\((?!https?:|#|/)([^)]+)\)", lambda m: f"]({link_prefix}{m.group(1)})", text)
    return [("###" + line) if line.startswith("#") else line for line in text.splitlines()]


def render_file(path: Path, link_prefix: str) -> list[str]:
    own_md = path.with_suffix(".md")
    if own_md.exists():
        return embed_markdown(own_md, link_prefix)
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and not any(_is_block(v) for v in data.values()) and path.stem.startswith("serve_load"):
        return table([{"run": path.stem, **data}], first="run")
    return render_json(data)


def _section(files: list[Path], link_prefix: str) -> list[str]:
    lines = []
    loads = [f for f in files if f.stem.startswith("serve_load")]
    if loads:  # one table for every load configuration
        rows = [{"run": f.stem, **json.loads(f.read_text(encoding="utf-8"))} for f in loads]
        sources = ", ".join(f"[{f.name}]({link_prefix}{f.name})" for f in loads)
        lines += ["### serve_load*.json (one row per configuration)", "", f"Sources: {sources}", "",
                  *table(rows, first="run"), ""]
    for f in files:
        if f in loads:
            continue
        lines += [f"### {f.name}", "", f"Source: [{f.name}]({link_prefix}{f.name})", "", *render_file(f, link_prefix), ""]
    return lines


def write_report(out_dir: Path, report: Path, command: str, host: dict, commit: str, date: str) -> None:
    """docs/BENCHMARKS.md: every JSON in out_dir as tables, every PNG linked, plus provenance."""
    link_prefix = os.path.relpath(out_dir, report.parent).replace(os.sep, "/") + "/"
    files = sorted(p for p in out_dir.glob("*.json") if p.name != "run_all.json") if out_dir.exists() else []
    lines = ["# Benchmarks", "",
             "Generated by `benchmarks/run_all.py` from the JSON each benchmark script writes; "
             "do not edit by hand (benchmarks/README.md says what each script measures).", "",
             f"- command: `{command}`", f"- date: {date}", f"- git commit: {commit}",
             f"- machine: {host['cores']} cores, {host['cpu']}, load average {host['load_average']} "
             f"(1/5/15 min, when this report was written), {host['os']}, Python {host['python']}", "",
             "The machine is shared: wall-clock rates depend on the load average recorded in each section.", ""]
    log_path = out_dir / "run_all.json"
    if log_path.exists():
        runs = json.loads(log_path.read_text(encoding="utf-8")).get("runs", [])
        lines += ["## Commands run by run_all", "", *table(runs[-40:]), ""]
    for group in (*GROUPS, "other"):
        chosen = [f for f in files if group_of(f.name) == group]
        plots = sorted(p for p in out_dir.glob("*.png") if group_of(p.name) == group)
        if not chosen and not plots:
            continue
        lines += [f"## {GROUP_TITLES.get(group, 'Other')}", ""]
        lines += [f"![{p.stem}]({link_prefix}{p.name})" for p in plots] + ([""] if plots else [])
        lines += _section(chosen, link_prefix)
    missing = [g for g in GROUPS if not any(group_of(f.name) == g for f in files)]
    if missing:
        lines += ["## Not measured yet", "", *[f"- {GROUP_TITLES[g]}: no JSON in {link_prefix} yet "
                                               f"(`python benchmarks/run_all.py --only {g}`)" for g in missing], ""]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
