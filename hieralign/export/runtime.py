"""`OnnxCharRecognizer`: `CharRecognizer.recognize()` answered by an ONNX export (onnxruntime).

    rec = OnnxCharRecognizer.from_dir("exports/higita")            # fp32
    rec = OnnxCharRecognizer.from_dir("exports/higita", int8=True)  # INT8 image tower
    rec.recognize([glyph_uint8], candidates="etl9g", top_k=5)

Scoring, fusion with reference glyphs, candidate caching and preprocessing are the shared core
(hieralign.models.char.zeroshot); this module only supplies `OnnxCharEncoder`. Pre-encoded
candidate sets (candidates/*.npy) are used as they are; any other candidate list is tokenised
with the checkpoint's own tokenizer (stored in export.json) and encoded by the ONNX text tower.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from hieralign.export.onnx_io import session
from hieralign.models.char.zeroshot import ZeroShotClassifier
from hieralign.utils.io import file_hash

IMAGE_CHUNK = 256  # images per image-tower call
EXPORT_SUBDIR = "onnx"  # `hieralign export --out <checkpoint dir>/onnx` puts an export "next to the model"


def find_export(model: str | os.PathLike) -> Path | None:
    """The ONNX export to use for `model`, or None (then the PyTorch checkpoint runs).

    `model` itself when it is an export dir (holds export.json); for a checkpoint file or run dir,
    `<its dir>/onnx/export.json` — but only when that manifest's `checkpoint_hash` is this
    checkpoint's file hash, so an export left over from other weights is never picked up."""
    path = Path(model)
    if (path / "export.json").is_file():
        return path
    folder = path if path.is_dir() else path.parent
    manifest = folder / EXPORT_SUBDIR / "export.json"
    if not manifest.is_file():
        return None
    ckpt = path
    if path.is_dir():
        ckpt = next((path / n for n in ("best.safetensors", "model.safetensors") if (path / n).is_file()), path)
    try:
        digest = json.loads(manifest.read_text(encoding="utf-8")).get("checkpoint_hash")
    except (OSError, ValueError):
        return None
    return manifest.parent if ckpt.is_file() and digest and digest == file_hash(ckpt) else None



class OnnxCharEncoder:
    """`CharEncoder` (hieralign.models.char.zeroshot) over the exported image and text towers."""

    def __init__(self, export_dir: Path, manifest: dict[str, Any], int8: bool = False, threads: int = 0):
        name = "image_tower.int8.onnx" if int8 else "image_tower.onnx"
        if not (export_dir / name).is_file():
            raise FileNotFoundError(f"{export_dir / name} missing; re-run `hieralign export` "
                                    f"{'with --int8 ' if int8 else ''}for this model")
        self.dir, self.meta, self.int8 = export_dir, manifest, int8
        self.image_session = session(export_dir / name, threads)
        self.text_session = session(export_dir / "text_tower.onnx", threads)
        self.image_size = int(manifest["preprocessing"]["image_size"])
        self.margin = int(manifest["preprocessing"]["margin"])
        self.embed_dim = int(manifest["config"]["embed_dim"])
        self.text_inputs = list(manifest["text_inputs"])
        digest = manifest.get("checkpoint_hash")
        self.identity = f"onnx{'-int8' if int8 else ''}:{digest}:{manifest.get('vocab_hash')}" if digest else ""
        self.train_families = list(manifest.get("train_sources", []))
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from hieralign.models.char.texts import DecompositionTokenizer

            self._tokenizer = DecompositionTokenizer.from_meta(self.meta["tokenizer"])
        return self._tokenizer

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        """float32 (B,1,S,S) ink/255 -> (B,D)."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        out = [self.image_session.run(None, {"images": images[i:i + IMAGE_CHUNK]})[0]
               for i in range(0, len(images), IMAGE_CHUNK)]
        return np.concatenate(out) if out else np.zeros((0, self.embed_dim), np.float32)

    def encode_texts(self, chars: list[str]) -> np.ndarray:
        """A pre-encoded set from the export when `chars` is exactly one, else the text tower."""
        stored = self._stored(hashlib.sha256("".join(chars).encode()).hexdigest()[:16])
        return stored if stored is not None else self._encode_text(chars)

    def _stored(self, chars_hash: str) -> np.ndarray | None:
        for info in self.meta.get("candidate_sets", {}).values():
            if info.get("chars_hash") == chars_hash:
                return np.load(self.dir / info["file"])
        return None

    def _encode_text(self, chars: list[str]) -> np.ndarray:
        batch = self.tokenizer.encode(chars)
        if self.text_inputs == ["codes"]:
            feed = {"codes": batch.codes.numpy().astype(np.float32)}
        else:
            feed = {"strokes": _pad_min(batch.strokes.numpy(), 2), "ids": _pad_min(batch.ids.numpy(), 2)}
        return self.text_session.run(None, feed)[0]


class OnnxCharRecognizer(ZeroShotClassifier):
    """The zero-shot core over an ONNX export: same `.recognize()` as `CharRecognizer`."""

    def __init__(self, export_dir: Path, manifest: dict[str, Any], int8: bool = False, threads: int = 0):
        self.onnx_encoder = OnnxCharEncoder(export_dir, manifest, int8, threads)
        super().__init__(self.onnx_encoder, manifest, str(manifest["region"]))
        self.dir, self.int8 = export_dir, int8
        self._text_cache: dict[str, np.ndarray] = {}

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

    @property
    def tokenizer(self):
        return self.onnx_encoder.tokenizer

    @property
    def candidate_chars(self) -> list[str]:
        return list(self.meta.get("charset", {}).get("train", ""))

    def encode_images(self, images: np.ndarray) -> np.ndarray:
        return self.onnx_encoder.encode_images(images)

    def encode_candidates(self, chars: list[str]) -> np.ndarray:
        """Candidate characters -> (N,D) decomposition embeddings, exactly these rows."""
        from hieralign.models.char.candidates import build_candidates

        key = "".join(chars)
        if key not in self._text_cache:
            self._text_cache[key] = np.asarray(build_candidates(self.encoder, list(chars), "decomposition")
                                               .decomposition)
        return self._text_cache[key]

    def card(self) -> dict[str, Any]:
        m = self.meta
        return {"model": m.get("model"), "backend": "onnx", "int8": self.int8, "export_dir": str(self.dir),
                "vocab_hash": m.get("vocab_hash"), "region": self.region, "checkpoint_hash": m.get("checkpoint_hash"),
                "preprocessing": m.get("preprocessing"), "candidate_sets": sorted(m.get("candidate_sets", {})),
                "parity": m.get("parity"), "int8_quantization": m.get("int8"), "glyph_weight": self.glyph_weight}


def _pad_min(tokens: np.ndarray, width: int) -> np.ndarray:
    tokens = tokens.astype(np.int64)
    if tokens.shape[1] >= width:
        return tokens
    return np.pad(tokens, ((0, 0), (0, width - tokens.shape[1])))
