"""`hieralign index build|add|info`: a FAISS line index (image + text embeddings, provenance).

    hieralign index build --model runs/line_clip_small --output runs/line_index \\
        --manifest data/train.jsonl --manifest data/test.jsonl --dataset-dir data
    hieralign index build --model runs/line_clip_small --output runs/line_index   # from faiss_embeddings.npy
    hieralign index add --index runs/line_index --manifest more.jsonl --dataset-dir more
    hieralign index info --index runs/line_index
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hieralign.lines.index import AUTO_EXACT_MAX, LineIndex, build_index, embedding_table, read_embeddings


def embed_manifests(model_dir: str, manifests: list[str], dataset_dir: str | None, strict: bool):
    """(vectors, meta) for the lines of the given manifests, embedded with the model in `model_dir`."""
    from hieralign.lines.artifacts import LineEncoder
    from hieralign.lines.data import load_lines
    from hieralign.lines.manifest import read_manifest

    encoder = LineEncoder.from_dir(model_dir)
    sets = []
    for manifest in manifests:
        report = read_manifest(manifest, dataset_dir, strict=strict)
        print(f"{manifest}: {report.summary()}")
        split = Path(manifest).stem
        for r in report.records:
            r.split = r.split or split
        sets.append(load_lines(report.records, dataset_dir or str(Path(manifest).parent), encoder.preprocess))
    return embedding_table(encoder.model, encoder.tokenizer, encoder.text_max_length, sets)


def cmd_build(a) -> int:
    if a.manifest:
        vectors, meta = embed_manifests(a.model, a.manifest, a.dataset_dir, a.strict)
    else:
        vectors, meta = read_embeddings(a.model)
    index = build_index(vectors, meta, kind=a.kind, model_dir=str(Path(a.model).resolve()))
    index.save(a.output)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    for modality, recall in index.recall.items():
        if recall < 0.95:
            print(f"warning: {modality} index recall@10 vs exact = {recall:.3f} < 0.95; use --kind flat")
    return 0


def cmd_add(a) -> int:
    index = LineIndex.load(a.index)
    model = a.model or index.model_dir
    vectors, meta = embed_manifests(model, a.manifest, a.dataset_dir, a.strict)
    index.add(vectors, meta)
    index.save(a.index)
    print(json.dumps(index.info(), indent=2, ensure_ascii=False))
    return 0


def cmd_info(a) -> int:
    print(json.dumps(LineIndex.load(a.index).info(), indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hieralign index", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="embed manifests (or reuse faiss_embeddings.npy) into a new index")
    build.add_argument("--model", required=True)
    build.add_argument("--output", required=True)
    build.add_argument("--kind", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                       help=f"auto = exact up to {AUTO_EXACT_MAX} vectors per modality, HNSW above")
    add = sub.add_parser("add", help="embed more manifests into an existing index")
    add.add_argument("--index", required=True)
    add.add_argument("--model", help="default: the model recorded in the index")
    for parser in (build, add):
        parser.add_argument("--manifest", action="append", default=[], required=parser is add)
        parser.add_argument("--dataset-dir", help="image paths are relative to this (default: each manifest's folder)")
        parser.add_argument("--strict", action="store_true", help="fail on a missing/unreadable image")
    info = sub.add_parser("info", help="counts, kinds, recall check")
    info.add_argument("--index", required=True)
    a = p.parse_args(argv)
    return {"build": cmd_build, "add": cmd_add, "info": cmd_info}[a.command](a)
