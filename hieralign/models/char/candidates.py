"""Candidate lists and the candidate matrix: one builder for recognise, eval, export and training.

    chars = resolve_candidates("jis2")                       # NFKC-folded, duplicate-free
    matrix = build_candidates(encoder, chars, descriptors="both")
    matrix.decomposition   # (N, D) text-tower embeddings of the decompositions
    matrix.glyphs          # (N, D) mean image embedding of reference renders; zero rows = no font covers it

`encoder` is anything with the `CharEncoder` protocol (hieralign.models.char.zeroshot). Matrices
are cached on disk per (encoder identity, descriptor, font set, candidate-list hash) as a
memory-mapped `.npy` beside a json header, under $HIERALIGN_CACHE (default ~/.cache/hieralign),
so `--candidates all` is paid once per model. The header is written last: a matrix without a
matching header, or one that fails to load, is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hieralign.utils.progress import progress

DESCRIPTORS = ("decomposition", "glyphs", "both")
TEXT_CHUNK = 1024  # candidates per text-tower call
DISK_MIN = 256  # smaller candidate lists are encoded on the fly (cheap) and not written to disk
CACHE_VERSION = 1  # bump when what a cached matrix means changes


def fold(ch: str) -> str:
    """NFKC fold of one character, kept only when it stays one character (豈 U+F900 -> 豈 U+8C48;
    ㍿ stays itself: a 4-character expansion is not a candidate)."""
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and not folded.isspace() else ch


def resolve_candidates(candidates: str | list[str]) -> list[str]:
    """A charset name / comma list / literal characters / `all` / file path, or an explicit list ->
    NFKC-folded, duplicate-free characters in first-seen order (a compatibility ideograph never
    ties with the unified ideograph it folds onto)."""
    if isinstance(candidates, str):
        from hieralign.knowledge.charsets import load_charset_arg

        raw = load_charset_arg(candidates)
    else:
        raw = [c for c in candidates if c and not c.isspace()]
    chars = list(dict.fromkeys(fold(c) for c in raw))
    if not chars:
        raise ValueError("empty candidate list")
    return chars


def chars_hash(chars: list[str]) -> str:
    return hashlib.sha256("".join(chars).encode()).hexdigest()[:16]


def want_glyphs(descriptors: str) -> bool:
    if descriptors not in DESCRIPTORS:
        raise ValueError(f"descriptors {descriptors!r}: choose one of {', '.join(DESCRIPTORS)}")
    return descriptors != "decomposition"


@dataclass
class CandidateMatrix:
    chars: list[str]  # candidate characters, the rows of every matrix below
    decomposition: np.ndarray  # (N, D) float32 L2-normalised decomposition embeddings
    glyphs: np.ndarray | None = None  # (N, D) mean reference-glyph prototypes; zero row = no covering font
    glyph_fonts: list[str] = field(default_factory=list)  # faces the prototypes were rendered from
    # derived arrays (has_glyph, fused matrices per weight), rebuilt when `glyphs` is replaced
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def _memo(self, key: Any, make):
        if self._derived.get("source") is not self.glyphs:
            self._derived.clear()
            self._derived["source"] = self.glyphs
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    @property
    def has_glyph(self) -> np.ndarray:
        """(N,) bool: the candidate has a reference-glyph prototype (computed once)."""
        if self.glyphs is None:
            return np.zeros(len(self.chars), bool)
        glyphs = self.glyphs
        return self._memo("has", lambda: np.abs(np.asarray(glyphs)).sum(axis=1) > 0)

    def fused(self, weight: float) -> np.ndarray:
        """(N, D) in-memory matrix F with emb @ F.T == the fused score: the fusion is linear in the
        embedding, so w·G + (1−w)·D is folded once (rows without a prototype: D alone) and a batch
        is scored with ONE matmul instead of two plus a blend. weight 0 -> the decompositions."""
        if self.glyphs is None or weight <= 0:
            return self._memo(("fused", 0.0), lambda: np.ascontiguousarray(self.decomposition, np.float32))
        glyphs, decomp, has = np.asarray(self.glyphs), np.asarray(self.decomposition), self.has_glyph
        return self._memo(("fused", float(weight)), lambda: np.ascontiguousarray(
            np.where(has[:, None], weight * glyphs + (1.0 - weight) * decomp, decomp), np.float32))

    @property
    def nbytes(self) -> int:
        """Bytes this matrix holds (for byte-bounded caches; memory-mapped rows count too)."""
        arrays = [self.decomposition, self.glyphs, *(v for v in self._derived.values() if isinstance(v, np.ndarray))]
        return int(sum(a.nbytes for a in arrays if a is not None))


def cache_root() -> Path:
    root = os.environ.get("HIERALIGN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "hieralign")
    return Path(root) / "candidates"


def _key(identity: str, kind: str, chars: list[str], extra: dict[str, Any]) -> str:
    raw = json.dumps([CACHE_VERSION, identity, kind, chars_hash(chars), extra], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _load(key: str, n: int, root: Path) -> tuple[np.ndarray, dict[str, Any]] | None:
    head, data = root / f"{key}.json", root / f"{key}.npy"
    if not (head.is_file() and data.is_file()):
        return None
    try:
        header = json.loads(head.read_text(encoding="utf-8"))
        arr = np.load(data, mmap_mode="r")
        if arr.ndim != 2 or arr.shape[0] != n or list(arr.shape) != header.get("shape"):
            return None
        return arr, header
    except (OSError, ValueError, EOFError):
        return None  # corrupt or half-written: rebuilt by the caller


def _save(key: str, arr: np.ndarray, header: dict[str, Any], root: Path) -> None:
    from hieralign.utils.io import atomic_path, atomic_write_json

    try:
        with atomic_path(root / f"{key}.npy") as tmp, open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(arr, np.float32))
        atomic_write_json(root / f"{key}.json", {**header, "shape": list(arr.shape)})
    except OSError:
        pass  # read-only cache dir: the matrix still works, it is just rebuilt next time


def cached(identity: str, kind: str, chars: list[str], extra: dict[str, Any], build, use_disk: bool | None = None):
    """(matrix, header) from the disk cache, else `build()` -> (matrix, header) written there."""
    use_disk = len(chars) >= DISK_MIN if use_disk is None else use_disk
    root = cache_root()
    key = _key(identity, kind, chars, extra)
    if use_disk and identity:
        hit = _load(key, len(chars), root)
        if hit is not None:
            return hit
    arr, header = build()
    if use_disk and identity:
        _save(key, arr, {"identity": identity, "kind": kind, "chars_hash": chars_hash(chars), "count": len(chars),
                         **extra, **header}, root)
    return arr, header


def encode_decompositions(encoder, chars: list[str]) -> np.ndarray:
    chunks = range(0, len(chars), TEXT_CHUNK)
    bar = progress(chunks, desc="encoding candidates", disable=True if len(chars) <= 4 * TEXT_CHUNK else None)
    out = [np.asarray(encoder.encode_texts(chars[i:i + TEXT_CHUNK]), np.float32) for i in bar]
    return np.concatenate(out) if out else np.zeros((0, encoder.embed_dim), np.float32)


def build_candidates(encoder, chars: list[str], descriptors: str = "both", faces=None,
                     use_disk: bool | None = None) -> CandidateMatrix:
    """The candidate matrix of `chars` for `encoder`: decomposition embeddings, plus reference-glyph
    prototypes (rendered in `faces`, default: the training faces the model trained on) unless
    descriptors == "decomposition"."""
    ident = getattr(encoder, "identity", "")
    decomp, _ = cached(ident, "decomposition", chars, {},
                       lambda: (encode_decompositions(encoder, chars), {}), use_disk)
    matrix = CandidateMatrix(list(chars), decomp)
    if want_glyphs(descriptors):
        from hieralign.models.char.glyphs import GlyphRenderSpec, build_prototypes, prototype_faces

        faces = list(faces) if faces is not None else prototype_faces(encoder.train_families)
        spec = GlyphRenderSpec.from_encoder(encoder)
        extra = {"fonts": spec.font_key(faces), "render": spec.key()}
        glyphs, header = cached(ident, "glyphs", chars, extra,
                                lambda: build_prototypes(encoder, chars, faces, spec), use_disk)
        matrix.glyphs, matrix.glyph_fonts = glyphs, list(header.get("font_names", []))
    return matrix
