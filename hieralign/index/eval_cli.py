"""`hieralign eval line` for both line model kinds.

A line-CLIP model goes to `eval.line_cli` (embeddings, R@k/MRR both directions). A line-OCR
(CTC) model is evaluated here, on the index layer, because its retrieval is the hybrid search
of `index.transcripts` (the eval layer must not import the index): every line is transcribed
once (CER/WER per style and per face, `eval.line_ocr_eval`), then each distinct reference text
queries the transcription index and the CTC rerank (text->line R@1/5/10, MRR, per style/face).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hieralign.eval import line_cli


def evaluate_ocr(a) -> dict:
    from hieralign.data.lines.manifest import read_manifest
    from hieralign.eval.line_ocr_eval import grouped_error_rates, retrieval_report
    from hieralign.index.ocr_index import BuildOptions, transcribe_rows
    from hieralign.index.transcripts import HybridSearcher, TranscriptIndex
    from hieralign.models.line.ctc_infer import load_line_recognizer

    report = read_manifest(a.manifest, a.data, allow_outside=a.allow_outside)
    records = report.records[:a.limit] if a.limit else report.records
    root = Path(a.data) if a.data else Path(a.manifest).parent
    rows = [{"image": str(r.resolve(root))} for r in records]
    out: dict = {"model": a.model, "manifest": a.manifest, "manifest_report": report.as_dict(),
                 "skipped": [*report.missing, *report.unreadable, *report.skipped_rows], "lines": len(records)}
    if not records:
        return {**out, "transcription": {}, "retrieval": {}}
    model = load_line_recognizer(a.model)
    started = time.perf_counter()
    texts, _, outputs = transcribe_rows(model, rows, BuildOptions())
    seconds = time.perf_counter() - started
    out.update(transcribe_seconds=round(seconds, 2), lines_per_s=round(len(records) / max(seconds, 1e-9), 1))
    refs = [r.text for r in records]
    groups: dict[str, Sequence[str]] = {"style": [r.style or "unknown" for r in records],
                                        "face": [str(r.extra.get("face", "")) or "unknown" for r in records]}
    searcher = HybridSearcher(TranscriptIndex.build(texts), outputs, model.config.charset)
    search = lambda q, k: [i for i, _ in searcher.search(q, k, max(a.rerank, k))]  # noqa: E731
    return {**out, "transcription": grouped_error_rates(refs, texts, groups),
            "retrieval": retrieval_report(refs, search, groups)}


def format_ocr(out: dict) -> str:
    head = f"{'group':<34} {'lines':>5} {'CER':>6} {'WER':>6}  {'queries':>7} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6}"
    rows = [head]
    for name, rates in out["transcription"].items():
        r = out["retrieval"].get(name, {})
        rows.append(f"{name:<34} {rates['lines']:>5} {100 * rates['cer']:5.2f}% {100 * rates['wer']:5.1f}%  "
                    f"{int(r.get('queries', 0)):>7} {100 * r.get('R@1', 0):5.1f}% {100 * r.get('R@5', 0):5.1f}% "
                    f"{100 * r.get('R@10', 0):5.1f}% {r.get('MRR', 0):6.3f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from hieralign.index.ocr_index import is_ctc_model

    a = line_cli.build_parser().parse_args(argv)
    if not is_ctc_model(a.model):
        return line_cli.main(argv)
    out = evaluate_ocr(a)
    line_cli.print_skipped(out["manifest_report"], out["skipped"])
    if not out["lines"]:
        print(f"hieralign eval line: no usable lines in {a.manifest}", file=sys.stderr)
        return 2
    print(format_ocr(out))
    print(f"transcription: {out['lines_per_s']} lines/s")
    if a.out:
        from hieralign.utils.io import atomic_write_json

        atomic_write_json(a.out, out)
    return 0
