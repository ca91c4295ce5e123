"""`faiss_embeddings.npy` + `faiss_embeddings_meta.parquet`: every line of a model's data, embedded
in both modalities, with provenance (the seed's artefact; `hieralign index build` reads it).

One row per vector: id, modality (image|text), path, text, split, source, style.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

META_COLUMNS = ("id", "modality", "path", "text", "split", "source", "style")


def embedding_table(encoder, sets) -> tuple[np.ndarray, dict[str, list]]:
    """Image and text embeddings of every line in `sets` (LineSets) by `encoder` (a
    `models.line.artifacts.LineEncoder`), with their metadata columns."""
    vectors: list[np.ndarray] = []
    meta: dict[str, list] = {c: [] for c in META_COLUMNS}
    for lines in sets:
        images, texts = encoder.embed_lines(lines)
        for modality, emb in (("image", images), ("text", texts)):
            vectors.append(emb.numpy().astype(np.float32))
            for r in lines.records:
                row = {"id": f"{r.split}:{r.image_path}", "modality": modality, "path": r.image_path, "text": r.text,
                       "split": r.split, "source": r.source, "style": r.style}
                for column in META_COLUMNS:
                    meta[column].append(row[column])
    dim = encoder.dim
    return (np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)), meta



def write_embeddings(encoder, sets, out_dir: str | os.PathLike) -> None:
    """Embed `sets` with `encoder` and write the two files into `out_dir`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hieralign.utils.io import atomic_path

    vectors, meta = embedding_table(encoder, sets)
    out = Path(out_dir)
    with atomic_path(out / "faiss_embeddings.npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, vectors)
    with atomic_path(out / "faiss_embeddings_meta.parquet") as tmp:
        pq.write_table(pa.table(meta), str(tmp))


def read_embeddings(model_dir: str | os.PathLike) -> tuple[np.ndarray, dict[str, list]]:
    """`faiss_embeddings.npy` + `faiss_embeddings_meta.parquet` written at the end of training."""
    import pyarrow.parquet as pq

    root = Path(model_dir)
    vectors = np.load(root / "faiss_embeddings.npy")
    table = pq.read_table(str(root / "faiss_embeddings_meta.parquet")).to_pydict()
    return vectors, {c: list(table[c]) for c in META_COLUMNS}
