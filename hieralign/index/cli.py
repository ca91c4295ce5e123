"""`hieralign index build|add|info`: a FAISS line index (image + text embeddings, provenance).

    hieralign index build --model runs/line_clip_small --out runs/line_index \\
        --manifest data/train.jsonl --manifest data/test.jsonl --data data
    hieralign index build --model runs/line_clip_small --out runs/line_index   # from faiss_embeddings.npy
    hieralign index add --index runs/line_index --manifest more.jsonl --data more
    hieralign index info --index runs/line_index
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hieralign.index.faiss_index import AUTO_EXACT_MAX, LineIndex, build_index
from hieralign.models.line.embeddings import embedding_table, read_embeddings
from hieralign.utils.argconfig import HelpFormatter


def embed_manifests(model_dir: str, manifests: list[str], dataset_dir: str | None, strict: bool):
    """(vectors, meta) for the lines of the given manifests, embedded with the model in `model_dir`."""
    from hieralign.data.lines.batches import load_lines
    from hieralign.data.lines.manifest import read_manifest
    from hieralign.models.line.artifacts import LineEncoder

    encoder = LineEncoder.from_dir(model_dir)
    sets = []
    for manifest in manifests:
        report = read_manifest(manifest, dataset_dir, strict=strict)
        print(f"{manifest}: {report.summary()}")
        split = Path(manifest).stem
        for r in report.records:
            r.split = r.split or split
        sets.append(load_lines(report.records, dataset_dir or str(Path(manifest).parent), encoder.preprocess))
    return embedding_table(encoder, sets)


def cmd_build(a) -> int:
    if a.manifest:
        vectors, meta = embed_manifests(a.model, a.manifest, a.data, a.strict)
    else:
        vectors, meta = read_embeddings(a.model)
    index = build_index(vectors, meta, kind=a.kind, model_dir=str(Path(a.model).resolve()))
    index.save(a.out)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    for modality, recall in index.recall.items():
        if recall < 0.95:
            print(f"warning: {modality} index recall@10 vs exact = {recall:.3f} < 0.95; use --kind flat")
    return 0


def cmd_add(a) -> int:
    index = LineIndex.load(a.index)
    model = a.model or index.model_dir
    vectors, meta = embed_manifests(model, a.manifest, a.data, a.strict)
    index.add(vectors, meta)
    index.save(a.index)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    return 0


def cmd_info(a) -> int:
    print(json.dumps(LineIndex.load(a.index).info(), indent=2, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign index", description=__doc__, formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="embed manifests (or reuse faiss_embeddings.npy) into a new index",
                           formatter_class=HelpFormatter)
    build.add_argument("--model", required=True, help="line-CLIP model directory (hieralign train line --out)")
    build.add_argument("--out", "--output", dest="out", required=True, help="index directory to write")
    build.add_argument("--kind", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                       help=f"auto = exact up to {AUTO_EXACT_MAX} vectors per modality, HNSW above")
    add = sub.add_parser("add", help="embed more manifests into an existing index", formatter_class=HelpFormatter)
    add.add_argument("--index", required=True, help="index directory (hieralign index build --out)")
    add.add_argument("--model", default=None, help="line-CLIP model directory (default: the model recorded in the index)")
    for parser in (build, add):
        parser.add_argument("--manifest", action="append", default=[], required=parser is add,
                            help="JSONL manifest of lines to embed (repeatable)")
        parser.add_argument("--data", "--dataset-dir", dest="data", default=None,
                            help="image paths are relative to this (default: each manifest's folder)")
        parser.add_argument("--strict", action="store_true", help="fail on a missing/unreadable image")
    info = sub.add_parser("info", help="counts, kinds, recall check", formatter_class=HelpFormatter)
    info.add_argument("--index", required=True, help="index directory")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    return {"build": cmd_build, "add": cmd_add, "info": cmd_info}[a.command](a)
