"""A FAISS index over line embeddings of both modalities, with provenance metadata.

Directory layout:
    index.json          dim, kind, model directory, counts, recall check of approximate indexes
    meta.parquet        one row per vector: id, modality (image|text), path, text, split, source, style
    image.faiss / text.faiss   one index per modality; vector i of a modality = its i-th meta row

Exact inner-product search (`IndexFlatIP`) below `AUTO_EXACT_MAX` vectors per modality,
HNSW above (no training step, incremental adds). `ivf` (IndexIVFFlat, trained on the first
vectors added) is the cheaper-to-build choice for millions of lines. For approximate kinds,
recall@10 against exact search is measured at build time and stored in index.json.
Embeddings are L2-normalised, so inner product = cosine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hieralign.models.line.embeddings import META_COLUMNS

MODALITIES = ("image", "text")
AUTO_EXACT_MAX = 200_000


def _faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError("the line index needs faiss: pip install 'hieralign[index]'") from exc
    return faiss


def ivf_nlist(n: int) -> int:
    """IVF list count: ~4 sqrt(n), at least 1, and at most n / 39 (faiss wants 39 points per centroid)."""
    return int(max(1, min(4 * round(n ** 0.5), n // 39, 65536)))


def _new_index(kind: str, dim: int, n: int, hnsw_m: int = 32, nprobe: int = 32):
    faiss = _faiss()
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "ivf":
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, ivf_nlist(n), faiss.METRIC_INNER_PRODUCT)
        index.nprobe = nprobe
        return index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        return index
    raise ValueError(f"unknown index kind {kind!r}; choose flat, hnsw, ivf or auto")


def recall_at_k(index, vectors: np.ndarray, k: int = 10, queries: int = 200, seed: int = 0) -> float:
    """Mean overlap of the index's top-k with exact top-k, for sampled stored vectors as queries."""
    if len(vectors) == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(vectors), size=min(queries, len(vectors)), replace=False)
    q = vectors[picks]
    exact = np.argsort(-(q @ vectors.T), axis=1)[:, :k]
    _, approx = index.search(q, k)
    return float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact)]))


@dataclass
class LineIndex:
    """Per-modality FAISS indexes + one metadata table."""

    dim: int  # embedding size
    kind: str = "auto"  # flat | hnsw | ivf | auto (flat up to AUTO_EXACT_MAX vectors per modality, then hnsw)
    model_dir: str = ""  # the model that produced the vectors (queries must use the same one)
    model_hash: str = ""  # `fingerprint.weights_hash` of that model; search refuses another model
    meta: dict[str, list] = field(default_factory=lambda: {c: [] for c in META_COLUMNS})  # column -> values
    indexes: dict = field(default_factory=dict)  # modality -> faiss index
    rows: dict = field(default_factory=lambda: {m: [] for m in MODALITIES})  # modality -> meta row numbers
    recall: dict = field(default_factory=dict)  # modality -> recall@10 vs exact (approximate kinds)

    def _kind_for(self, n: int) -> str:
        return self.kind if self.kind != "auto" else ("flat" if n <= AUTO_EXACT_MAX else "hnsw")

    def add(self, vectors: np.ndarray, meta: dict[str, list]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape} do not match index dim {self.dim}")
        offset = len(self.meta["id"])
        for column in META_COLUMNS:
            self.meta[column].extend(meta[column])
        modality = np.asarray(meta["modality"])
        for m in MODALITIES:
            picked = np.flatnonzero(modality == m)
            if len(picked) == 0:
                continue
            if m not in self.indexes:
                self.indexes[m] = _new_index(self._kind_for(len(picked)), self.dim, len(picked))
            index = self.indexes[m]
            if not index.is_trained:  # IVF: centroids from the first batch of vectors
                index.train(vectors[picked])
            index.add(vectors[picked])
            self.rows[m].extend(int(offset + i) for i in picked)

    def check_recall(self, vectors: np.ndarray, meta: dict[str, list], k: int = 10) -> dict:
        modality = np.asarray(meta["modality"])
        for m, index in self.indexes.items():
            if type(index).__name__ != "IndexFlatIP":
                self.recall[m] = recall_at_k(index, vectors[modality == m], k)
        return self.recall

    def search(self, queries: np.ndarray, k: int, modality: str) -> list[list[dict]]:
        """Top-k rows of `modality` for each query (score = cosine)."""
        if modality not in self.indexes:
            return [[] for _ in range(len(queries))]
        scores, ids = self.indexes[modality].search(np.ascontiguousarray(queries, dtype=np.float32), k)
        results = []
        for row_scores, row_ids in zip(scores, ids):
            hits: list[dict] = []
            for score, i in zip(row_scores, row_ids):
                if i < 0:
                    continue
                row = self.rows[modality][int(i)]
                hits.append({"rank": len(hits) + 1, "score": float(score),
                             **{c: self.meta[c][row] for c in META_COLUMNS}})
            results.append(hits)
        return results

    def info(self) -> dict:
        counts = {m: int(self.indexes[m].ntotal) if m in self.indexes else 0 for m in MODALITIES}
        kinds = {m: type(i).__name__ for m, i in self.indexes.items()}
        splits = {s: self.meta["split"].count(s) for s in sorted(set(self.meta["split"]))}
        return {"dim": self.dim, "kind": self.kind, "faiss": kinds, "vectors": counts, "rows_per_split": splits,
                "model_dir": self.model_dir, "model_hash": self.model_hash, "recall_at_10": self.recall}

    def save(self, directory: str | os.PathLike) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from hieralign.utils.io import atomic_path, atomic_write_json

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for m, index in self.indexes.items():
            with atomic_path(out / f"{m}.faiss") as tmp:
                _faiss().write_index(index, str(tmp))
        with atomic_path(out / "meta.parquet") as tmp:
            pq.write_table(pa.table({c: self.meta[c] for c in META_COLUMNS}), str(tmp))
        atomic_write_json(out / "index.json", {**self.info(), "rows": self.rows})

    @classmethod
    def load(cls, directory: str | os.PathLike) -> LineIndex:
        import pyarrow.parquet as pq

        root = Path(directory)
        if not (root / "index.json").is_file():
            raise FileNotFoundError(f"{root}/index.json not found: build one with `hieralign index build`")
        card = json.loads((root / "index.json").read_text(encoding="utf-8"))
        table = pq.read_table(str(root / "meta.parquet")).to_pydict()
        index = cls(dim=int(card["dim"]), kind=card["kind"], model_dir=card.get("model_dir", ""),
                    model_hash=card.get("model_hash", ""),
                    meta={c: list(table[c]) for c in META_COLUMNS}, rows=card["rows"], recall=card.get("recall_at_10", {}))
        for m in MODALITIES:
            if (root / f"{m}.faiss").is_file():
                index.indexes[m] = _faiss().read_index(str(root / f"{m}.faiss"))
        return index


def build_index(vectors: np.ndarray, meta: dict[str, list], kind: str = "auto", model_dir: str = "",
                model_hash: str = "") -> LineIndex:
    index = LineIndex(dim=int(vectors.shape[1]), kind=kind, model_dir=str(model_dir), model_hash=model_hash)
    index.add(vectors, meta)
    index.check_recall(vectors, meta)
    return index
