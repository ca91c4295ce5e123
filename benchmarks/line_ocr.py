"""Line OCR benchmark: CER/WER per style and face, text->line R@k (hybrid: transcription index
+ CTC rerank), Tesseract `bod` OCR-then-match on the same lines, and the first stage at scale.

  python benchmarks/line_ocr.py --model hieralign/assets/models/line-ocr --out docs/benchmarks/line_ocr.json
  python benchmarks/line_ocr.py --index-scale 1000000 --skip-eval     # first-stage p50 at 1M lines

The held-out set is rendered here (unless --data): training faces in new documents (another
seed than any training set) plus every installed test-only face (print, degraded, cursive),
`--num-docs` x `--lines-per-doc` lines (>= 2,000 by default) with pecha-length lines.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `benchmarks.peers_base` for the peers


def build_heldout(out: Path, num_docs: int, lines_per_doc: int, seed: int) -> Path:
    from hieralign.data.lines.synth import discover_tibetan_fonts
    from hieralign.data.lines.synth_cli import SynthConfig, build_dataset
    from hieralign.data.lines.text import bospell_words

    if not (out / "test.jsonl").is_file():
        cfg = SynthConfig(str(out), num_docs=num_docs, lines_per_doc=lines_per_doc, split_fractions="0,0,1",
                          seed=seed, max_words=24, test_docs_per_face=max(1, num_docs // 20))
        build_dataset(cfg, discover_tibetan_fonts(), bospell_words(cfg.syllable_fraction))
    return out / "test.jsonl"


def evaluate(model_dir: str, manifest: Path, rerank: int, tesseract: bool, limit: int) -> dict:
    from hieralign.data.lines.manifest import read_manifest
    from hieralign.eval.line_ocr_eval import grouped_error_rates, retrieval_report
    from hieralign.index.transcripts import index_arrays
    from hieralign.models.line.ctc_infer import load_line_recognizer, prepare

    records = read_manifest(manifest).records[: limit or None]
    refs = [r.text for r in records]
    groups = {"style": [r.style for r in records], "face": [r.extra.get("face", "") for r in records]}
    model = load_line_recognizer(model_dir)
    started = time.perf_counter()
    arrays = prepare([r.resolve(manifest.parent) for r in records], model.config.height)
    hyps, searcher = index_arrays(model, arrays)
    seconds = time.perf_counter() - started
    search_times: list[float] = []

    def search(query: str, k: int) -> list[int]:
        t = time.perf_counter()
        found = [i for i, _ in searcher.search(query, k, rerank)]
        search_times.append(time.perf_counter() - t)
        return found

    report = {"lines": len(records), "index_lines_per_s": len(records) / seconds,
              "cer": grouped_error_rates(refs, hyps, groups), "retrieval": retrieval_report(refs, search, groups)}
    report["query_p50_ms"] = 1000 * statistics.median(search_times)
    if tesseract:
        report["tesseract"] = tesseract_match(records, manifest.parent, refs, groups)
    return report


def tesseract_match(records, root, refs, groups) -> dict:
    """Tesseract `bod` reads each line; queries are matched to its readings by the same index."""
    from peers_tesseract import TesseractLine
    from PIL import Image

    from hieralign.eval.line_ocr_eval import grouped_error_rates, retrieval_report
    from hieralign.index.transcripts import TranscriptIndex

    engine = TesseractLine()
    if not engine.available():
        return {"skipped": engine.available().reason}
    hyps = [engine.read(Image.open(r.resolve(root))) for r in records]
    index = TranscriptIndex.build(hyps)
    return {"engine": engine.name, "cer": grouped_error_rates(refs, hyps, groups),
            "retrieval": retrieval_report(refs, lambda q, k: [i for i, _ in index.search(q, k)], groups)}


def first_stage_at_scale(n: int, queries: int = 200, seed: int = 0) -> dict:
    """Build the transcription index over `n` synthetic transcripts; p50 of `search` (top 50)."""
    import numpy as np

    from hieralign.data.lines.text import bospell_words
    from hieralign.index.transcripts import TranscriptIndex

    sampler, rng = bospell_words(0.3), random.Random(seed)
    texts = [sampler.line(rng, 2, 24) for _ in range(n)]
    t = time.perf_counter()
    index = TranscriptIndex.build(texts)
    build_s = time.perf_counter() - t
    times, hits = [], 0
    for i in rng.sample(range(n), queries):
        t = time.perf_counter()
        found = index.search(texts[i], 50)
        times.append(time.perf_counter() - t)
        hits += any(texts[j] == texts[i] for j, _ in found[:1])
    return {"lines": n, "build_s": build_s, "p50_ms": 1000 * float(np.median(times)),
            "p95_ms": 1000 * float(np.percentile(times, 95)), "top1_exact": hits / queries}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="hieralign/assets/models/line-ocr", help="line-OCR model folder")
    p.add_argument("--data", help="a test manifest (default: render a held-out set into --work)")
    p.add_argument("--work", default="runs/bench-line-ocr", help="where the held-out set is rendered")
    p.add_argument("--num-docs", type=int, default=60, help="held-out documents in training faces")
    p.add_argument("--lines-per-doc", type=int, default=30, help="lines per document")
    p.add_argument("--seed", type=int, default=1001, help="held-out seed (differs from training seeds)")
    p.add_argument("--rerank", type=int, default=10, help="first-stage candidates reranked by CTC likelihood")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N lines (smoke runs)")
    p.add_argument("--no-tesseract", dest="tesseract", action="store_false", help="skip the Tesseract peer")
    p.add_argument("--index-scale", type=int, default=0, help="also time the first stage over N synthetic lines")
    p.add_argument("--skip-eval", action="store_true", help="only the --index-scale measurement")
    p.add_argument("--out", help="write the JSON report here")
    a = p.parse_args(argv)
    report: dict = {}
    if not a.skip_eval:
        manifest = Path(a.data) if a.data else build_heldout(Path(a.work), a.num_docs, a.lines_per_doc, a.seed)
        report["eval"] = evaluate(a.model, manifest, a.rerank, a.tesseract, a.limit)
    if a.index_scale:
        report["first_stage"] = first_stage_at_scale(a.index_scale)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
