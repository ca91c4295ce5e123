"""The one recogniser core: zero-shot classification over any character encoder.

    clf = ZeroShotClassifier(encoder, meta)
    clf.recognize([glyph_uint8], candidates="jis2", top_k=5, descriptors="both")
    -> [[{"char", "score", "glyph_score", "decomposition_score", "descriptor", "decomposition"}, ...]]

An encoder (`CharEncoder`) turns prepared glyphs and candidate characters into embeddings; the
PyTorch checkpoint (`TorchCharEncoder`, here) and the ONNX export
(`hieralign.export.runtime.OnnxCharEncoder`) implement it, and everything else — preprocessing,
candidate matrices, fusion, top-k, result rows — is this module, shared by both.

Fusion: score = w·cos(image, glyph prototype) + (1−w)·cos(image, decomposition). A candidate no
training font covers has no prototype; its decomposition cosine stands in for the missing glyph
cosine, so its fused score is its decomposition score and stays comparable with the others.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

from hieralign.models.char.candidates import (
    CandidateMatrix,
    build_candidates,
    resolve_candidates,
    want_glyphs,
)

# Chosen on held-out seen-split classes (the shipped checkpoint's 200 validation classes, whose
# images never trained it; eval-seed handwriting + prints in a training family left out of the
# prototypes; 4,519 candidates), never on the reserved JIS-2 set:
#   python benchmarks/char_refglyphs.py --choose-weight --limit 100  -> 0.8 (73.5 % top-1;
#   0.0: 55.3 %, 0.5: 69.9 %, 1.0: 69.4 %; 219 images). DESIGN §5's probe used 0.7.
DEFAULT_GLYPH_WEIGHT = 0.8
DEFAULT_DESCRIPTORS = "both"


class CharEncoder(Protocol):
    identity: str  # stable id of the weights + backend (cache key); "" = never cache on disk
    embed_dim: int  # embedding width D
    image_size: int  # input side S the checkpoint was trained on
    margin: int  # blank border of the training framing
    train_families: list[str]  # font sources the checkpoint trained on (for reference glyphs)

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        """float32 (B,1,S,S) ink/255 -> (B,D) L2-normalised."""
        ...

    def encode_texts(self, chars: list[str]) -> np.ndarray:
        """Candidate characters -> (N,D) L2-normalised decomposition embeddings."""
        ...


class TorchCharEncoder:
    """`CharEncoder` over a loaded `HierCodeWithHiGITA` and its tokenizer."""

    def __init__(self, model, tokenizer, meta: dict[str, Any], checkpoint_hash: str = "", device: str = "cpu",
                 batch_size: int = 512):
        import torch

        self.model, self.tokenizer = model.to(device).eval(), tokenizer
        self.device, self.batch_size = torch.device(device), batch_size
        pre = meta.get("preprocessing", {})
        self.image_size = int(pre.get("image_size", model.config.image.image_size))
        self.margin = int(pre.get("margin", 4))
        self.ink_threshold = int(pre.get("ink_threshold", 32))
        self.embed_dim = int(model.config.embed_dim)
        self.identity = f"torch:{checkpoint_hash}:{tokenizer.hash}" if checkpoint_hash else ""
        self.train_families = list((meta.get("data") or {}).get("sources", []))

    def encode_images_torch(self, images):
        import torch

        with torch.no_grad():
            out = [self.model.encode_image(images[i:i + self.batch_size].to(self.device))
                   for i in range(0, len(images), self.batch_size)]
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        import torch

        return self.encode_images_torch(torch.from_numpy(np.ascontiguousarray(images, np.float32))).cpu().numpy()

    def encode_texts(self, chars: list[str]) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.model.encode_text(self.tokenizer.encode(chars).to(self.device)).cpu().numpy()


def fuse(glyph: np.ndarray | None, decomp: np.ndarray, has_glyph: np.ndarray | None, weight: float) -> np.ndarray:
    """Fused (B,N) scores; where a candidate has no prototype its decomposition score stands in."""
    if glyph is None or weight <= 0:
        return decomp
    glyph = np.where(has_glyph[None, :], glyph, decomp) if has_glyph is not None else glyph
    return weight * glyph + (1.0 - weight) * decomp


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(B,k) column indices of the k best scores per row, best first (one argpartition + one sort)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((len(scores), 0), np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


class ZeroShotClassifier:
    """Preprocess, embed, score against a candidate matrix (decomposition and/or reference glyphs)."""

    def __init__(self, encoder: CharEncoder, meta: dict[str, Any], region: str = "J"):
        self.encoder, self.meta, self.region = encoder, meta, region
        self.glyph_weight = float(meta.get("glyph_weight", DEFAULT_GLYPH_WEIGHT))
        self._matrices: dict[tuple[str, str], CandidateMatrix] = {}  # a server swaps in a byte-bounded LRU
        self._named: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, charset name) -> _matrices key
        self._decomp: dict[str, str] = {}  # candidate -> IDS string, looked up once per character

    @property
    def image_size(self) -> int:
        return int(self.encoder.image_size)

    @property
    def margin(self) -> int:
        return int(self.encoder.margin)

    def candidate_matrix(self, candidates: str | list[str], descriptors: str = DEFAULT_DESCRIPTORS,
                         faces=None) -> CandidateMatrix:
        """Resolved, encoded (and cached) candidates; `faces` overrides the prototype fonts."""
        kind = "both" if want_glyphs(descriptors) else "decomposition"
        # A charset name is resolved once (folding 3k-89k characters costs ms per call); files and
        # explicit lists are resolved every time (a file may change, a list is its own key).
        spec = candidates if isinstance(candidates, str) and faces is None else None
        named = spec is not None and not os.path.exists(spec)
        if spec is not None and named and (kind, spec) in self._named:
            key = self._named[(kind, spec)]
            if key in self._matrices:
                return self._matrices[key]
        chars = resolve_candidates(candidates)
        key = (kind, "".join(chars) + ("|" + ",".join(f.name for f in faces) if faces is not None else ""))
        if key not in self._matrices:
            self._matrices[key] = build_candidates(self.encoder, chars, kind, faces=faces)
        if spec is not None and named:
            self._named[(kind, spec)] = key
        return self._matrices[key]

    def prepare(self, images) -> np.ndarray:
        """uint8 arrays (any size, either polarity) or ready float32 (B,1,S,S) -> float32 (B,1,S,S)."""
        from hieralign.models.char.preprocess import prepare_batch

        if isinstance(images, np.ndarray) and images.dtype == np.float32 and images.ndim == 4:
            return images
        if hasattr(images, "numpy") and getattr(images, "ndim", 0) == 4:  # a torch tensor
            return images.float().numpy()
        return prepare_batch(list(images), self.image_size, self.margin)

    def weight(self, descriptors: str, glyph_weight: float | None = None) -> float:
        """The glyph-cosine weight `descriptors` implies (glyphs: 1, decomposition: 0)."""
        w = self.glyph_weight if glyph_weight is None else float(glyph_weight)
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"glyph weight {w} must be in [0, 1]")
        if not want_glyphs(descriptors):
            return 0.0
        return 1.0 if descriptors == "glyphs" else w

    def scores(self, emb: np.ndarray, matrix: CandidateMatrix, descriptors: str = DEFAULT_DESCRIPTORS,
               glyph_weight: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(fused, decomposition, glyph-or-None) cosine scores, each (B, N) (evaluation sweeps;
        `recognize` scores with one matmul on the folded matrix and gathers the rest for the top-k)."""
        w = self.weight(descriptors, glyph_weight)
        decomp = emb @ np.asarray(matrix.decomposition).T
        if not want_glyphs(descriptors) or matrix.glyphs is None:
            return decomp, decomp, None
        glyph = emb @ np.asarray(matrix.glyphs).T
        return fuse(glyph, decomp, matrix.has_glyph, w), decomp, glyph

    def recognize(self, images, candidates: str | list[str] = "etl9g", top_k: int = 5,
                  descriptors: str = DEFAULT_DESCRIPTORS, glyph_weight: float | None = None) -> list[list[dict]]:
        """Top-k candidates per image: {char, score, decomposition_score, glyph_score, descriptor,
        decomposition}. `descriptor` names what decided: "glyphs" when the glyph cosine outweighs
        the decomposition cosine in the fused score, else "decomposition"."""
        w = self.weight(descriptors, glyph_weight)
        matrix = self.candidate_matrix(candidates, descriptors)
        emb = np.ascontiguousarray(self.encoder.encode_images(self.prepare(images)), np.float32)
        return self.ranked(emb, matrix, top_k, w)

    def ranked(self, emb: np.ndarray, matrix: CandidateMatrix, k: int, weight: float) -> list[list[dict]]:
        """Score `emb` (B,D) with one matmul, take the top-k, then gather both cosines of those rows only."""
        fused = emb @ matrix.fused(weight).T
        idx = top_k(fused, k)
        score = np.take_along_axis(fused, idx, axis=1)
        decomp = np.einsum("bd,bkd->bk", emb, np.asarray(matrix.decomposition)[idx])
        glyph = None
        if matrix.glyphs is not None and weight > 0:
            glyph = np.where(matrix.has_glyph[idx], np.einsum("bd,bkd->bk", emb, np.asarray(matrix.glyphs)[idx]),
                             np.nan)
        return self._rows(idx, score, decomp, glyph, matrix, weight)

    def rows(self, fused, decomp, glyph, matrix: CandidateMatrix, k: int, descriptors: str,
             glyph_weight: float | None) -> list[list[dict]]:
        """Result rows from full (B,N) score arrays (as `scores` returns them)."""
        w = self.weight(descriptors, glyph_weight)
        idx = top_k(fused, k)
        take = (lambda a: np.take_along_axis(a, idx, axis=1))  # noqa: E731
        g = None if glyph is None else np.where(matrix.has_glyph[idx], take(glyph), np.nan)
        return self._rows(idx, take(fused), take(decomp), g, matrix, w)

    def _rows(self, idx, score, decomp, glyph, matrix: CandidateMatrix, weight: float) -> list[list[dict]]:
        """Dicts from (B,k) arrays: all arithmetic and rounding vectorised, one lookup per new character."""
        chars = matrix.chars
        names = [[chars[j] for j in row] for row in idx.tolist()]
        decomp_of = self.decompositions(list({c for row in names for c in row}))
        if glyph is None:
            glyphs = [[None] * idx.shape[1]] * len(idx)
            decided = np.zeros(idx.shape, bool)
        else:
            decided = np.nan_to_num(weight * glyph, nan=-np.inf) > (1 - weight) * decomp
            glyphs = [[None if v != v else v for v in row] for row in np.round(glyph.astype(np.float64), 4).tolist()]
        out = []
        for row, s, d, g, by in zip(names, _round(score), _round(decomp), glyphs,
                                    decided.tolist()):
            out.append([{"char": c, "score": s[i], "decomposition_score": d[i], "glyph_score": g[i],
                         "descriptor": "glyphs" if by[i] else "decomposition", "decomposition": decomp_of[c]}
                        for i, c in enumerate(row)])
        return out

    def decompositions(self, chars: list[str]) -> dict[str, str]:
        """IDS strings of `chars`, each looked up in the database once per classifier."""
        missing = [c for c in chars if c not in self._decomp]
        if missing:
            from hieralign.knowledge.ids import IDSDatabase

            db = IDSDatabase.load()
            self._decomp.update({c: db.ids(c, self.region) or c for c in missing})
        return {c: self._decomp[c] for c in chars}

    def decomposition(self, ch: str) -> str:
        return self.decompositions([ch])[ch]


def _round(a: np.ndarray) -> list:
    """(B,k) float32 -> nested lists of 4-decimal Python floats (rounded in float64: 0.8838, not 0.8838000297)."""
    return np.round(a.astype(np.float64), 4).tolist()
