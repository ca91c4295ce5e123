"""Held-out line retrieval per style: line-CLIP vs Tesseract 5 `bod` as OCR-then-match.

    python benchmarks/line_retrieval.py --model runs/line_clip_small --dataset-dir runs/lines_tibetan

Gallery = every line of the test manifest; queries broken down by style. For line-CLIP the score
is the cosine between embeddings. For Tesseract each line image is OCR'd once; text->image
ranks the lines by the normalised edit distance between the query text and each line's OCR
output, image->text ranks the transcriptions by their distance to the image's OCR output.
Ties (e.g. an empty OCR output is equally far from everything) are broken at random with a
fixed seed, never in the peer's favour. Tesseract's CER (edit distance / reference length) is
reported per style. Writes docs/benchmarks/line_retrieval.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hieralign.data.lines.batches import text_group_id  # noqa: E402
from hieralign.data.lines.manifest import read_manifest  # noqa: E402
from hieralign.eval.line_eval import evaluate_manifest, format_results  # noqa: E402
from hieralign.eval.retrieval import positive_ranks, summarize_ranks  # noqa: E402
from hieralign.utils.progress import progress  # noqa: E402


def tesseract_outputs(records, dataset_dir: Path, scale: float, cache: Path | None = None) -> tuple[list[str], float, str]:
    """OCR text per line, seconds per line, engine name (reused from `cache` when it has these lines)."""
    from PIL import Image

    from benchmarks.peers_tesseract import TesseractLine

    key = f"{dataset_dir.resolve()}|{scale}|" + "|".join(r.image_path for r in records)
    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["outputs"], saved["s_per_line"], saved["engine"]
    engine = TesseractLine(lang="bod", scale=scale, psm=7)
    engine.require()
    outputs, started = [], time.time()
    for r in progress(records, desc=f"tesseract bod x{scale:g}", unit="line"):
        with Image.open(r.resolve(dataset_dir)) as im:
            outputs.append(engine.read(im.convert("L")))
    per_line, name = (time.time() - started) / max(1, len(records)), f"{engine.name} [{engine.version}]"
    if cache is not None:
        cache.write_text(json.dumps({"key": key, "outputs": outputs, "s_per_line": per_line, "engine": name},
                                    ensure_ascii=False), encoding="utf-8")
    return outputs, per_line, name


def cer(outputs: list[str], references: list[str]) -> float:
    from rapidfuzz.distance import Levenshtein

    errors = sum(Levenshtein.distance(o, r) for o, r in zip(outputs, references))
    return errors / max(1, sum(len(r) for r in references))


def edit_scores(queries: list[str], gallery: list[str], seed: int = 0) -> torch.Tensor:
    """-normalised edit distance (higher = closer) plus a tiny random tie-breaker."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    distance = cdist(queries, gallery, scorer=Levenshtein.normalized_distance, dtype=np.float32, workers=1)
    noise = np.random.default_rng(seed).random(distance.shape, dtype=np.float32) * 1e-6
    return torch.from_numpy(-distance + noise)


def ranks_from_scores(scores: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """positive_ranks for a precomputed score matrix (queries x gallery, same line order)."""
    eye = torch.eye(scores.shape[1])
    return positive_ranks(scores, eye, ids, ids, chunk_size=512)


def tesseract_retrieval(records, outputs: list[str]) -> dict[str, dict[str, float]]:
    texts = [r.text for r in records]
    ids = torch.tensor([text_group_id(t) for t in texts])
    t2i = ranks_from_scores(edit_scores(texts, outputs), ids)
    i2t = ranks_from_scores(edit_scores(outputs, texts, seed=1), ids)
    styles = [r.style or "unknown" for r in records]
    results = {}
    for name in ["all", *sorted(set(styles))]:
        mask = torch.tensor([name == "all" or s == name for s in styles])
        metrics = {f"t2i_{k}": v for k, v in summarize_ranks(t2i[mask]).items()}
        metrics.update({f"i2t_{k}": v for k, v in summarize_ranks(i2t[mask]).items()})
        picked = [i for i in range(len(records)) if mask[i]]
        metrics["cer"] = cer([outputs[i] for i in picked], [texts[i] for i in picked])
        results[name] = metrics
    return results


def pick_scale(val_manifest: Path, dataset_dir: Path, n: int = 40) -> dict[float, float]:
    """Tesseract's downscale factor chosen on validation lines (never on the test split)."""
    records = read_manifest(val_manifest, dataset_dir).records
    records = [records[int(i)] for i in np.linspace(0, len(records) - 1, min(n, len(records)))]
    return {s: cer(tesseract_outputs(records, dataset_dir, s)[0], [r.text for r in records]) for s in (0.5, 0.75, 1.0)}


def markdown(ours: dict, tess: dict | None, meta: dict) -> str:
    lines = ["# Line retrieval (held-out test split)", "", f"Command: `{meta['command']}`", "",
             f"Model: `{meta['model']}`; lines: {meta['lines']}; gallery = all test lines.", "",
             "| style | n | ours t2i R@1 | R@5 | R@10 | MRR | ours i2t R@1 | MRR | Tesseract t2i R@1 | MRR | "
             "Tesseract i2t R@1 | Tesseract CER |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for style, m in ours.items():
        t = (tess or {}).get(style)
        peer = (f"{100 * t['t2i_r1']:.1f} | {t['t2i_mrr']:.3f} | {100 * t['i2t_r1']:.1f} | {100 * t['cer']:.1f} %"
                if t else "– | – | – | –")
        lines.append(f"| {style} | {m['t2i_n']} | {100 * m['t2i_r1']:.1f} | {100 * m['t2i_r5']:.1f} | "
                     f"{100 * m['t2i_r10']:.1f} | {m['t2i_mrr']:.3f} | {100 * m['i2t_r1']:.1f} | {m['i2t_mrr']:.3f} | {peer} |")
    if meta.get("tesseract"):
        lines += ["", f"Tesseract: {meta['tesseract']}, {1000 * meta['tesseract_s_per_line']:.0f} ms/line; "
                  f"scale chosen on val by CER: {meta['tesseract_scale_cer']}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="line-CLIP directory (omit to only run and cache Tesseract)")
    p.add_argument("--ocr-cache", help="JSON file to keep Tesseract's test outputs in between runs")
    p.add_argument("--dataset-dir", required=True)
    p.add_argument("--manifest", help="default: DATASET/test.jsonl")
    p.add_argument("--val-manifest", help="for Tesseract's scale choice; default: DATASET/val.jsonl")
    p.add_argument("--limit", type=int, default=0, help="first N test lines only")
    p.add_argument("--no-tesseract", action="store_true")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    a = p.parse_args(argv)
    data = Path(a.dataset_dir)
    manifest = Path(a.manifest or data / "test.jsonl")
    ours = {"results": {}, "lines": 0, "embed_seconds": 0.0}
    if a.model:
        ours = evaluate_manifest(a.model, str(manifest), str(data), limit=a.limit)
        print("line-CLIP\n" + format_results(ours["results"]))
    meta = {"command": "python benchmarks/line_retrieval.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "model": a.model, "lines": ours["lines"], "embed_seconds": ours["embed_seconds"]}
    tess = None
    if not a.no_tesseract:
        scales = pick_scale(Path(a.val_manifest or data / "val.jsonl"), data)
        scale = min(scales, key=scales.get)
        records = read_manifest(manifest, data).records
        records = records[:a.limit] if a.limit else records
        outputs, per_line, name = tesseract_outputs(records, data, scale, Path(a.ocr_cache) if a.ocr_cache else None)
        tess = tesseract_retrieval(records, outputs)
        meta.update(tesseract=name, tesseract_s_per_line=per_line, tesseract_scale_cer=scales)
        print("Tesseract OCR-then-match\n" + format_results(tess))
    if not a.model:
        return 0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "line_retrieval.json").write_text(json.dumps({"meta": meta, "line_clip": ours["results"], "tesseract": tess},
                                                        indent=2, ensure_ascii=False) + "\n")
    (out / "line_retrieval.md").write_text(markdown(ours["results"], tess, meta))
    print(f"wrote {out / 'line_retrieval.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
