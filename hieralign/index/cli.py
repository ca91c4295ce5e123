"""`hieralign index build|add|info`: a line index with provenance, of the model's kind.

A CTC line-OCR model (`hieralign train line-ocr`) gets a transcription index: every line is
transcribed once (progress bar) and its transcription, pruned CTC outputs and provenance
(manifest, line, image) are stored for hybrid search. A line-CLIP model gets a FAISS index of
image + text embeddings. `search` tells the two apart from index.json.

    hieralign index build --model hieralign/assets/models/line-ocr --manifest data/test.jsonl --out runs/ocr_index
    hieralign index build --model runs/line_clip_small --out runs/line_index \\
        --manifest data/train.jsonl --manifest data/test.jsonl --data data
    hieralign index build --model runs/line_clip_small --out runs/line_index   # from faiss_embeddings.npy
    hieralign index add --index runs/line_index --manifest more.jsonl --data more
    hieralign index info --index runs/line_index
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hieralign.utils.argconfig import HelpFormatter

AUTO_EXACT_MAX = 200_000  # = faiss_index.AUTO_EXACT_MAX (not imported: keeps --help free of faiss)


def embed_manifests(model_dir: str, manifests: list[str], dataset_dir: str | None, strict: bool,
                    allow_outside: bool = False):
    """(vectors, meta, model hash) for the lines of the given manifests, embedded with the line-CLIP
    model in `model_dir`."""
    from hieralign.data.lines.batches import load_lines
    from hieralign.data.lines.manifest import read_manifest
    from hieralign.index.fingerprint import weights_hash
    from hieralign.models.line.artifacts import LineEncoder
    from hieralign.models.line.embeddings import embedding_table

    encoder = LineEncoder.from_dir(model_dir)
    sets = []
    for manifest in manifests:
        report = read_manifest(manifest, dataset_dir, strict=strict, allow_outside=allow_outside)
        print(f"{manifest}: {report.summary()}")
        split = Path(manifest).stem
        for r in report.records:
            r.split = r.split or split
        sets.append(load_lines(report.records, dataset_dir or str(Path(manifest).parent), encoder.preprocess))
    vectors, meta = embedding_table(encoder, sets)
    return vectors, meta, weights_hash(encoder.model)


def _ocr_options(a):
    from hieralign.index.ocr_index import BuildOptions

    return BuildOptions(dataset_dir=a.data, strict=a.strict, allow_outside=a.allow_outside,
                        copy_images=getattr(a, "copy_images", False), keep=getattr(a, "keep", 4))


def cmd_build(a) -> int:
    from hieralign.index.ocr_index import build_ocr_index, is_ctc_model

    if is_ctc_model(a.model):
        if not a.manifest:
            print("hieralign index build: a line-OCR model needs --manifest (the lines to transcribe)", file=sys.stderr)
            return 2
        print(json.dumps(build_ocr_index(a.model, a.manifest, a.out, _ocr_options(a)), indent=2, ensure_ascii=False))
        return 0
    from hieralign.index.faiss_index import build_index
    from hieralign.models.line.embeddings import read_embeddings

    if a.manifest:
        vectors, meta, model_hash = embed_manifests(a.model, a.manifest, a.data, a.strict, a.allow_outside)
    else:
        from hieralign.index.fingerprint import weights_hash
        from hieralign.models.line.artifacts import LineEncoder

        vectors, meta = read_embeddings(a.model)
        model_hash = weights_hash(LineEncoder.from_dir(a.model).model)
    index = build_index(vectors, meta, kind=a.kind, model_dir=str(Path(a.model).resolve()), model_hash=model_hash)
    index.save(a.out)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    for modality, recall in index.recall.items():
        if recall < 0.95:
            print(f"warning: {modality} index recall@10 vs exact = {recall:.3f} < 0.95; use --kind flat")
    return 0


def cmd_add(a) -> int:
    from hieralign.index.ocr_index import INDEX_FORMAT, add_to_index, index_format

    if index_format(a.index) == INDEX_FORMAT:
        model = a.model or json.loads((Path(a.index) / "index.json").read_text(encoding="utf-8"))["model_dir"]
        print(json.dumps(add_to_index(a.index, model, a.manifest, _ocr_options(a)), indent=2, ensure_ascii=False))
        return 0
    from hieralign.index.faiss_index import LineIndex
    from hieralign.index.fingerprint import check_index_model

    index = LineIndex.load(a.index)
    model = a.model or index.model_dir
    vectors, meta, model_hash = embed_manifests(model, a.manifest, a.data, a.strict, a.allow_outside)
    check_index_model(index.model_hash, model_hash, a.index, model)
    index.add(vectors, meta)
    index.save(a.index)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    return 0


def cmd_info(a) -> int:
    from hieralign.index.ocr_index import INDEX_FORMAT, index_format

    if index_format(a.index) == INDEX_FORMAT:
        card = json.loads((Path(a.index) / "index.json").read_text(encoding="utf-8"))
        print(json.dumps({k: v for k, v in card.items() if k != "units"}, indent=2, ensure_ascii=False))
        return 0
    from hieralign.index.faiss_index import LineIndex

    print(json.dumps(LineIndex.load(a.index).info(), indent=2, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign index", description=__doc__, formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="transcribe (line-OCR) or embed (line-CLIP) manifests into a new index",
                           formatter_class=HelpFormatter)
    build.add_argument("--model", required=True,
                       help="line-OCR model folder (hieralign train line-ocr) or line-CLIP model directory")
    build.add_argument("--out", "--output", dest="out", required=True, help="index directory to write")
    build.add_argument("--kind", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                       help=f"line-CLIP: auto = exact up to {AUTO_EXACT_MAX} vectors per modality, HNSW above")
    build.add_argument("--copy-images", action="store_true",
                       help="line-OCR: copy the line images into the index folder (a self-contained index)")
    build.add_argument("--keep", type=int, default=4, help="line-OCR: CTC units kept per frame for the rerank")
    add = sub.add_parser("add", help="transcribe/embed more manifests into an existing index", formatter_class=HelpFormatter)
    add.add_argument("--index", required=True, help="index directory (hieralign index build --out)")
    add.add_argument("--model", default=None, help="model directory (default: the model recorded in the index)")
    for parser in (build, add):
        parser.add_argument("--manifest", action="append", default=[], required=parser is add,
                            help="JSONL manifest of lines to index (repeatable)")
        parser.add_argument("--data", "--dataset-dir", dest="data", default=None,
                            help="image paths are relative to this (default: each manifest's folder)")
        parser.add_argument("--strict", action="store_true", help="fail on a missing/unreadable image")
        parser.add_argument("--allow-outside", action="store_true",
                            help="let manifest image paths lead outside the dataset folder")
    info = sub.add_parser("info", help="counts, kinds, recall check", formatter_class=HelpFormatter)
    info.add_argument("--index", required=True, help="index directory")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    return {"build": cmd_build, "add": cmd_add, "info": cmd_info}[a.command](a)
