"""`hieralign eval line`: text->line and line->text retrieval on a held-out manifest.

The gallery is every line of the manifest (both modalities); queries are broken down by style
(print, cursive, degraded, ...) so a weak hand is not hidden by an easy one. Lines with the same
normalised text are the same target. No augmentation; similarities are computed in chunks.

    hieralign eval line --model runs/line_clip_small --manifest data/test.jsonl --data data
"""

from __future__ import annotations

import time

import torch

from hieralign.eval.retrieval import positive_ranks, summarize_ranks


def evaluate_embeddings(image: torch.Tensor, text: torch.Tensor, group_ids: torch.Tensor, styles: list[str],
                        chunk_size: int = 1024) -> dict[str, dict[str, float]]:
    """{"all": {...}, "<style>": {...}} with i2t_*/t2i_* R@1/5/10 and MRR."""
    i2t = positive_ranks(image, text, group_ids, group_ids, chunk_size)
    t2i = positive_ranks(text, image, group_ids, group_ids, chunk_size)
    groups = {"all": torch.ones(len(styles), dtype=torch.bool)}
    for style in sorted(set(styles)):
        groups[style or "unknown"] = torch.tensor([s == style for s in styles])
    results = {}
    for name, mask in groups.items():
        metrics = {f"i2t_{k}": v for k, v in summarize_ranks(i2t[mask]).items()}
        metrics.update({f"t2i_{k}": v for k, v in summarize_ranks(t2i[mask]).items()})
        results[name] = metrics
    return results


def evaluate_manifest(model_dir: str, manifest: str, dataset_dir: str | None = None,
                      chunk_size: int = 1024, limit: int = 0, allow_outside: bool = False) -> dict:
    from pathlib import Path

    from hieralign.data.lines.batches import load_lines
    from hieralign.data.lines.manifest import read_manifest
    from hieralign.models.line.artifacts import LineEncoder

    encoder = LineEncoder.from_dir(model_dir)
    report = read_manifest(manifest, dataset_dir, allow_outside=allow_outside)
    records = report.records[:limit] if limit else report.records
    lines = load_lines(records, dataset_dir or str(Path(manifest).parent), encoder.preprocess)
    started = time.time()
    image, text = encoder.embed_lines(lines)
    seconds = time.time() - started
    results = evaluate_embeddings(image, text, lines.group_ids, [r.style for r in records], chunk_size)
    return {"model": model_dir, "manifest": manifest, "manifest_report": report.as_dict(),
            "skipped": [*report.missing, *report.unreadable, *report.skipped_rows], "lines": len(records),
            "embed_seconds": round(seconds, 2), "results": results}


def format_results(results: dict[str, dict[str, float]]) -> str:
    head = f"{'style':<10} {'n':>5}  {'t2i R@1':>7} {'R@5':>6} {'R@10':>6} {'MRR':>6}  {'i2t R@1':>7} {'R@5':>6} {'R@10':>6} {'MRR':>6}"
    rows = [head]
    for name, m in results.items():
        rows.append(f"{name:<10} {m['t2i_n']:>5}  {100 * m['t2i_r1']:7.1f} {100 * m['t2i_r5']:6.1f} "
                    f"{100 * m['t2i_r10']:6.1f} {m['t2i_mrr']:6.3f}  {100 * m['i2t_r1']:7.1f} {100 * m['i2t_r5']:6.1f} "
                    f"{100 * m['i2t_r10']:6.1f} {m['i2t_mrr']:6.3f}")
    return "\n".join(rows)
