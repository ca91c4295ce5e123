"""`hieralign eval line`: retrieval (R@k, MRR) on a held-out manifest, per style; with a line-OCR
(CTC) model also CER/WER per style and per face.

    hieralign eval line --model runs/line_clip_small --manifest data/test.jsonl --data data --out r.json
    hieralign eval line --model hieralign/assets/models/line-ocr --manifest data/test.jsonl --out r.json

Rows whose image is missing or unreadable are skipped, counted and listed on the console.
(The command word routes through `hieralign.index.eval_cli`, which adds the CTC hybrid search.)
"""

from __future__ import annotations

import argparse

from hieralign.utils.argconfig import HelpFormatter


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign eval line", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="line-CLIP model directory (hieralign train line --out) "
                   "or line-OCR model folder (hieralign train line-ocr)")
    p.add_argument("--manifest", required=True, help="held-out JSONL manifest")
    p.add_argument("--data", "--dataset-dir", dest="data", default=None,
                   help="image paths are relative to this (default: the manifest's folder)")
    p.add_argument("--chunk-size", type=int, default=1024, help="queries scored per similarity chunk")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N lines (0 = all)")
    p.add_argument("--out", "--json", dest="out", default=None, help="also write the results here as JSON")
    p.add_argument("--allow-outside", action="store_true",
                   help="let manifest image paths lead outside the dataset folder")
    p.add_argument("--rerank", type=int, default=10, help="line-OCR: first-stage candidates reranked by CTC likelihood "
                   "(at least --top-k are)")
    return p


def print_skipped(report: dict, problems: list[str], limit: int = 20) -> None:
    """Say on the console which manifest rows were skipped (not only in the JSON)."""
    skipped = {k: v for k, v in report.items() if k in ("missing", "unreadable", "skipped_rows") and v}
    if not skipped:
        return
    print("skipped manifest rows: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in skipped.items()))
    for problem in problems[:limit]:
        print(f"  {problem}")
    if len(problems) > limit:
        print(f"  ... and {len(problems) - limit} more (all listed in --out)")


def main(argv: list[str] | None = None) -> int:
    from hieralign.eval.line_eval import evaluate_manifest, format_results

    a = build_parser().parse_args(argv)
    out = evaluate_manifest(a.model, a.manifest, a.data, a.chunk_size, a.limit, a.allow_outside)
    print_skipped(out["manifest_report"], out["skipped"])
    print(format_results(out["results"]))
    if a.out:
        from hieralign.utils.io import atomic_write_json

        atomic_write_json(a.out, out)
    return 0
