"""Adapters between the HTTP layer and the models: one small interface per kind of model.

The server talks only to `CharService` and `LineService`, so the routes do not care whether a
character model is a PyTorch checkpoint or an ONNX export, or how the line index stores paths.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hieralign.serve.limits import InputError


def to_gray(image: Image.Image) -> np.ndarray:
    """Decoded upload -> uint8 grayscale, transparent pixels as paper (white).

    Polarity detection, cropping and fitting are the recogniser's own `prepare`
    (hieralign.models.char.preprocess.prepare_glyph), so uploads are framed like training glyphs.
    """
    if image.mode in ("RGBA", "LA", "PA"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=np.uint8)


class CharService:
    """A character recogniser (torch `CharRecognizer` or `OnnxCharRecognizer`) behind one interface."""

    def __init__(self, recognizer: Any, backend: str, default_candidates: str = "etl9g"):
        self.recognizer = recognizer
        self.backend = backend
        self.default_spec = default_candidates  # charset name, or "model" = the classes the model was trained on
        card = self.card()
        self.name = str(card.get("name") or card.get("model") or type(recognizer).__name__)

    @classmethod
    def load(cls, path: str, backend: str = "auto", int8: bool = False, candidates: str = "etl9g") -> CharService:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"character model not found: {p} (a .safetensors checkpoint or an export dir)")
        from hieralign.export.runtime import OnnxCharRecognizer, find_export

        # auto: the ONNX export when `p` is one, or when `<checkpoint dir>/onnx/` was exported from
        # this very checkpoint (find_export compares the recorded checkpoint hash); else torch.
        export = p if backend == "onnx" else (find_export(p) if backend == "auto" else None)
        if export is not None:
            # onnxruntime's default intra-op threads (one per core, not spinning): measured 103-154 req/s
            # vs 81-94 with one thread per call on the 2-core machine (16 concurrent clients).
            return cls(OnnxCharRecognizer.from_dir(export, int8=int8), "onnx", candidates)
        from hieralign.models.char.recognizer import CharRecognizer

        return cls(CharRecognizer.from_checkpoint(p, device="cpu"), "torch", candidates)

    def card(self) -> dict[str, Any]:
        card = self.recognizer.card() if hasattr(self.recognizer, "card") else {}
        return dict(card) if isinstance(card, dict) else {"description": str(card)}

    def recognize(self, images: list[Image.Image], candidates: Any, top_k: int,
                  descriptors: str | None = None) -> list[list[dict[str, Any]]]:
        """Top-k rows per image; `descriptors` None = the recogniser's default ("both")."""
        from hieralign.models.char.preprocess import NoInkError

        glyphs = [to_gray(img) for img in images]
        candidates = candidates or self.default_candidate_spec()
        extra = {"descriptors": descriptors} if descriptors else {}
        try:
            results = self.recognizer.recognize(glyphs, candidates=candidates, top_k=top_k, **extra)
        except NoInkError as exc:  # before the generic ValueError: it is the image, not the candidates
            where = f"images[{exc.index}]" if exc.index is not None else "image"
            raise InputError(400, f"{where}: no ink found (blank, all paper, or only specks); send one "
                                  "character, dark ink on light paper") from exc
        except (KeyError, ValueError, FileNotFoundError) as exc:  # unknown charset, chars without a decomposition
            raise InputError(400, f"candidates: {exc}") from exc
        for row in results:
            for cand in row:
                cand.setdefault("tree", self.tree(cand["char"]))
        return results

    def tree(self, ch: str) -> Any:
        """IDS tree of a candidate (leaf = str, inner = {"op", "children"}) for the workbench."""
        from hieralign.knowledge.ids import IDSDatabase

        try:
            return IDSDatabase.load().tree(ch, self.region).to_json()
        except (KeyError, ValueError):
            return ch

    @property
    def region(self) -> str:
        return str(getattr(self.recognizer, "region", "J"))

    def default_candidate_spec(self) -> str | list[str]:
        """The server's --candidates: a charset name, or "model" for the model's training classes."""
        if self.default_spec == "model":
            return sorted(self.default_candidates()) or "etl9g"
        return self.default_spec

    def default_candidates(self) -> set[str]:
        """Characters the model was trained on (from its metadata)."""
        return set(str(self.recognizer.meta.get("train_chars", "")) or
                   str(self.recognizer.meta.get("charset", {}).get("train", "")))


class LineService:
    """A `LineSearcher` plus an allowlist of the line-image files its results point to."""

    def __init__(self, searcher: Any, roots: list[str | Path] = (), max_files: int = 200_000):
        self.searcher = searcher
        self.roots = [Path(r) for r in roots]  # where relative image paths of the index are looked up
        self._files: OrderedDict[str, Path] = OrderedDict()  # token -> path, only paths the index returned
        self._lock = threading.Lock()
        self._max_files = max_files

    @classmethod
    def load(cls, model_dir: str, index_dir: str | None = None, line_root: str | None = None) -> LineService:
        """Relative image paths resolve against `line_root` (the --dataset-dir the index was built
        from), else the working directory, the index dir and the model dir, in that order."""
        from hieralign.index.search import LineSearcher

        roots = [line_root] if line_root else [Path.cwd(), *(d for d in (index_dir, model_dir) if d)]
        return cls(LineSearcher.from_dir(model_dir, index_dir=index_dir), roots)

    def card(self) -> dict[str, Any]:
        card = self.searcher.card() if hasattr(self.searcher, "card") else {}
        return dict(card) if isinstance(card, dict) else {"description": str(card)}

    def search_text(self, text: str, k: int) -> dict[str, list[dict[str, Any]]]:
        return self._normalise(self.searcher.search_text(text, k))

    def search_image(self, image: Image.Image, k: int) -> dict[str, list[dict[str, Any]]]:
        return self._normalise(self.searcher.search_image(image.convert("RGB"), k))

    def image_path(self, token: str) -> Path | None:
        with self._lock:
            return self._files.get(token)

    def _normalise(self, raw: Any) -> dict[str, list[dict[str, Any]]]:
        raw = raw if isinstance(raw, dict) else {"lines": list(raw)}
        lines = [self._line_hit(item) for item in raw.get("lines", [])]
        texts = [_text_hit(item) for item in raw.get("texts", [])]
        return {"lines": lines, "texts": texts}

    def _line_hit(self, item: Any) -> dict[str, Any]:
        item = dict(item) if isinstance(item, dict) else {"text": str(item)}
        path = next((item.pop(key) for key in ("image_path", "image", "path") if key in item), None)
        hit = {"text": item.pop("text", None), "score": _float(item.pop("score", None)), "image_url": None}
        found = self._resolve(str(path)) if path is not None else None
        if found is not None:
            hit["image_url"] = f"/v1/lines/image/{self._register(found)}"
        hit["info"] = {k: v for k, v in item.items() if isinstance(v, str | int | float | bool | type(None))}
        return hit

    def _resolve(self, path: str) -> Path | None:
        candidate = Path(path)
        options = [candidate] if candidate.is_absolute() else [root / candidate for root in self.roots]
        return next((p for p in options if p.is_file()), None)

    def _register(self, path: Path) -> str:
        token = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
        with self._lock:
            self._files[token] = path.resolve()
            self._files.move_to_end(token)
            while len(self._files) > self._max_files:
                self._files.popitem(last=False)
        return token


def _text_hit(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return {"text": str(item.get("text", "")), "score": _float(item.get("score"))}
    return {"text": str(item), "score": None}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
