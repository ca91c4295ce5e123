"""`OnnxCharRecognizer`: `CharRecognizer.recognize()` answered by an ONNX export (onnxruntime).

    rec = OnnxCharRecognizer.from_dir("exports/higita")            # fp32
    rec = OnnxCharRecognizer.from_dir("exports/higita", int8=True)  # INT8 image tower
    rec.recognize([glyph_uint8], candidates="etl9g", top_k=5)

Pre-encoded candidate sets (candidates/*.npy) are used as they are; any other candidate list
is tokenised with the checkpoint's own tokenizer (stored in export.json) and encoded by the
ONNX text tower, so zero-shot candidates work exactly as with the PyTorch model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from hieralign.export.onnx_io import session

TEXT_CHUNK = 1024  # candidates per text-tower call
IMAGE_CHUNK = 256  # images per image-tower call


class OnnxCharRecognizer:
    def __init__(self, export_dir: Path, manifest: dict[str, Any], int8: bool = False, threads: int = 0):
        self.dir, self.meta = export_dir, manifest
        name = "image_tower.int8.onnx" if int8 else "image_tower.onnx"
        if not (export_dir / name).is_file():
            raise FileNotFoundError(f"{export_dir / name} missing; re-run `hieralign export` "
                                    f"{'with --int8 ' if int8 else ''}for this model")
        self.int8 = int8
        self.image_session = session(export_dir / name, threads)
        self.text_session = session(export_dir / "text_tower.onnx", threads)
        self.image_size = int(manifest["preprocessing"]["image_size"])
        self.margin = int(manifest["preprocessing"]["margin"])
        self.region = str(manifest["region"])
        self.text_inputs = list(manifest["text_inputs"])
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def from_dir(cls, export_dir: str | os.PathLike, int8: bool = False, threads: int = 0) -> OnnxCharRecognizer:
        export_dir = Path(export_dir)
        manifest_path = export_dir / "export.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path} missing: {export_dir} is not a `hieralign export` directory")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not str(manifest.get("format", "")).startswith("hieralign-char-onnx/"):
            raise ValueError(f"{manifest_path}: format {manifest.get('format')!r} is not a character export")
        return cls(export_dir, manifest, int8=int8, threads=threads)

    @classmethod
    def for_cli(cls, export_dir: str | os.PathLike, device: str = "cpu") -> OnnxCharRecognizer:
        """`hieralign recognize --backend onnx` factory (onnxruntime CPU; `device` is accepted for symmetry)."""
        return cls.from_dir(export_dir)

    @classmethod
    def for_cli_int8(cls, export_dir: str | os.PathLike, device: str = "cpu") -> OnnxCharRecognizer:
        """`hieralign recognize --backend onnx-int8` factory: the INT8 image tower."""
        return cls.from_dir(export_dir, int8=True)

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from hieralign.models.char.texts import DecompositionTokenizer

            self._tokenizer = DecompositionTokenizer.from_meta(self.meta["tokenizer"])
        return self._tokenizer

    @property
    def candidate_chars(self) -> list[str]:
        return list(self.meta.get("charset", {}).get("train", ""))

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        """float32 (B,1,S,S) ink/255 -> (B,D)."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        out = [self.image_session.run(None, {"images": images[i:i + IMAGE_CHUNK]})[0]
               for i in range(0, len(images), IMAGE_CHUNK)]
        return np.concatenate(out) if out else np.zeros((0, self._dim()), np.float32)

    def encode_candidates(self, chars: list[str]) -> np.ndarray:
        """Candidate characters -> (N,D): a stored set when the list matches one, else the text tower."""
        key = hashlib.sha256("".join(chars).encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self._stored(key[:16]) if self._stored(key[:16]) is not None else self._encode_text(chars)
        return self._cache[key]

    def _stored(self, chars_hash: str) -> np.ndarray | None:
        for info in self.meta.get("candidate_sets", {}).values():
            if info.get("chars_hash") == chars_hash:
                return np.load(self.dir / info["file"])
        return None

    def _encode_text(self, chars: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(chars), TEXT_CHUNK):
            batch = self.tokenizer.encode(chars[i:i + TEXT_CHUNK])
            if self.text_inputs == ["codes"]:
                feed = {"codes": batch.codes.numpy().astype(np.float32)}
            else:
                feed = {"strokes": _pad_min(batch.strokes.numpy(), 2), "ids": _pad_min(batch.ids.numpy(), 2)}
            out.append(self.text_session.run(None, feed)[0])
        return np.concatenate(out) if out else np.zeros((0, self._dim()), np.float32)

    def _dim(self) -> int:
        return int(self.meta["config"]["embed_dim"])

    def prepare(self, images: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """uint8 arrays (any size, either polarity) -> float32 (B,1,S,S), as CharRecognizer.prepare."""
        from hieralign.models.char.preprocess import prepare_glyph

        if isinstance(images, np.ndarray) and images.dtype == np.float32 and images.ndim == 4:
            return images
        glyphs = [prepare_glyph(np.asarray(im), self.image_size, self.margin) for im in images]
        if not glyphs:
            return np.zeros((0, 1, self.image_size, self.image_size), np.float32)
        return (np.stack(glyphs).astype(np.float32) / 255.0)[:, None]

    def recognize(self, images: list[np.ndarray] | np.ndarray, candidates: str | list[str] = "etl9g",
                  top_k: int = 5) -> list[list[dict[str, Any]]]:
        """Top-k candidates per image, each {char, score (cosine), decomposition (IDS)}."""
        from hieralign.models.char.recognizer import resolve_candidates

        chars = resolve_candidates(candidates)
        cand = self.encode_candidates(chars)
        scores = self.encode_images(self.prepare(images)) @ cand.T
        k = min(top_k, len(chars))
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[{"char": chars[j], "score": round(float(row[j]), 4), "decomposition": self.decomposition(chars[j])}
                 for j in idx] for row, idx in zip(scores, order)]

    def decomposition(self, ch: str) -> str:
        from hieralign.knowledge.ids import IDSDatabase

        return IDSDatabase.load().ids(ch, self.region) or ch

    def card(self) -> dict[str, Any]:
        m = self.meta
        return {"model": m.get("model"), "backend": "onnx", "int8": self.int8, "export_dir": str(self.dir),
                "vocab_hash": m.get("vocab_hash"), "region": self.region, "checkpoint_hash": m.get("checkpoint_hash"),
                "preprocessing": m.get("preprocessing"), "candidate_sets": sorted(m.get("candidate_sets", {})),
                "parity": m.get("parity"), "int8_quantization": m.get("int8")}


def _pad_min(tokens: np.ndarray, width: int) -> np.ndarray:
    tokens = tokens.astype(np.int64)
    if tokens.shape[1] >= width:
        return tokens
    return np.pad(tokens, ((0, 0), (0, width - tokens.shape[1])))
