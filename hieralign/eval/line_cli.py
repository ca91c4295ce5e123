"""`hieralign eval line`: text->line and line->text retrieval on a held-out manifest, per style.

    hieralign eval line --model runs/line_clip_small --manifest data/test.jsonl --data data --out r.json
"""

from __future__ import annotations

import argparse

from hieralign.utils.argconfig import HelpFormatter


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign eval line", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="line-CLIP model directory (hieralign train line --out)")
    p.add_argument("--manifest", required=True, help="held-out JSONL manifest")
    p.add_argument("--data", "--dataset-dir", dest="data", default=None,
                   help="image paths are relative to this (default: the manifest's folder)")
    p.add_argument("--chunk-size", type=int, default=1024, help="queries scored per similarity chunk")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N lines (0 = all)")
    p.add_argument("--out", "--json", dest="out", default=None, help="also write the results here as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    from hieralign.eval.line_eval import evaluate_manifest, format_results

    a = build_parser().parse_args(argv)
    out = evaluate_manifest(a.model, a.manifest, a.data, a.chunk_size, a.limit)
    report = out["manifest_report"]
    skipped = {k: v for k, v in report.items() if k in ("missing", "unreadable") and v}
    if skipped:
        print(f"skipped manifest rows: {skipped}")
    print(format_results(out["results"]))
    if a.out:
        from hieralign.utils.io import atomic_write_json

        atomic_write_json(a.out, out)
    return 0
