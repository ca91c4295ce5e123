"""`OcrSearcher`: hybrid search over a transcription index built with a CTC line recogniser.

    searcher = OcrSearcher.from_dir("hieralign/assets/models/line-ocr")   # + its index/ folder
    searcher.search_text("བཀྲ་ཤིས", k=5)     # n-gram first stage, CTC-likelihood rerank
    searcher.search_image(PIL.Image.open("line.png"), k=5)   # decode, then nearest transcriptions

A text search needs numpy and rapidfuzz only: the model's charset comes from its config.json
and its hash from the weights file, so `hieralign search --text` starts fast. The recogniser
itself (torch) is loaded on the first image query or transcription.
Each line hit carries rank, score (log P(query | line), summed over alignments), similarity
(first stage, 0-100), text (the transcription), span ([start, end) character offsets of the best
local alignment of the query in the transcription) and the line's provenance.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from hieralign.index.fingerprint import check_index_model, file_hash
from hieralign.index.ocr_index import INDEX_FORMAT, read_rows
from hieralign.index.transcripts import RERANK_DEPTH, HybridSearcher, PrunedOutputs, TranscriptIndex

MODES = ["text2line", "image2text", "image2line", "transcribe"]


def match_span(query: str, text: str) -> list[int] | None:
    """[start, end) of the best local alignment of `query` inside `text` (rapidfuzz)."""
    from rapidfuzz import fuzz

    from hieralign.data.lines.manifest import normalize_text

    q = normalize_text(query)
    if not q or not text:
        return None
    found = fuzz.partial_ratio_alignment(q, text)
    if found is None or found.score <= 0:
        return None
    return [int(found.dest_start), int(found.dest_end)]


class OcrSearcher:
    """A CTC line model's transcription index, searched by text (hybrid) or by image (decode first)."""

    def __init__(self, model_dir: str | os.PathLike, index_dir: str | os.PathLike):
        self.model_dir, self.index_dir = str(model_dir), str(index_dir)
        folder = Path(index_dir)
        self.card_data = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        if self.card_data.get("format") != INDEX_FORMAT:
            raise ValueError(f"{index_dir} is a line-CLIP embedding index, not a transcription index: "
                             f"build one with `hieralign index build --model {model_dir} --manifest M --out DIR`")
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        self.model_hash = file_hash(Path(model_dir) / "model.safetensors")
        check_index_model(self.card_data.get("model_hash", ""), self.model_hash, self.index_dir, self.model_dir)
        self.units: str = config["charset"]
        self.rows = read_rows(folder)
        self.index = TranscriptIndex.load(folder)
        self.hybrid = HybridSearcher(self.index, PrunedOutputs.load(folder), self.units)
        self._model: Any = None

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike, index_dir: str | os.PathLike | None = None) -> OcrSearcher:
        """The index in `index_dir`, else the model folder's own `index/`."""
        index = Path(index_dir) if index_dir is not None else Path(model_dir) / "index"
        if not (index / "index.json").is_file():
            raise FileNotFoundError(f"no transcription index at {index}: build one with "
                                    f"`hieralign index build --model {model_dir} --manifest M --out {index}`")
        return cls(model_dir, index)

    @property
    def model(self):
        if self._model is None:
            from hieralign.models.line.ctc_infer import load_line_recognizer

            self._model = load_line_recognizer(self.model_dir)
        return self._model

    def image_path(self, row: dict) -> Path:
        """A provenance row's line image (copied images are stored relative to the index)."""
        image = Path(row["image"])
        return image if image.is_absolute() else Path(self.index_dir) / image

    def _hit(self, rank: int, line: int, score: float | None, similarity: float | None, query: str) -> dict:
        row = self.rows[line]
        path = self.image_path(row)
        text = self.index.texts[line]
        value = round(float(score), 4) if score is not None and math.isfinite(score) else None
        return {"rank": rank, "score": value, "similarity": similarity,
                "text": text, "span": match_span(query, text), "path": str(path), "id": row["id"],
                "manifest": row["manifest"], "line_no": row["line_no"], "split": row["split"],
                "source": row["source"], "style": row["style"], "face": row.get("face", ""),
                "reference": row.get("reference", "")}

    def search_text(self, text: str, k: int = 10, rerank: int = RERANK_DEPTH) -> dict[str, list[dict]]:
        """Lines whose transcription holds `text`: first stage + CTC rerank of the top `rerank`."""
        if not text or not text.strip():
            raise ValueError("empty text query")
        found = self.hybrid.search(text, k, max(rerank, k))
        return {"lines": [self._hit(r + 1, line, score, None, text) for r, (line, score) in enumerate(found)],
                "texts": []}

    def transcribe(self, images: list, beam: int = 1) -> list[dict]:
        """[{text, score}] per line image (PIL images or paths)."""
        from hieralign.models.line.ctc_infer import transcribe_images

        return transcribe_images(self.model, images, beam)

    def search_image(self, image, k: int = 10) -> dict[str, Any]:
        """Decode the line, then the indexed transcriptions nearest that text (line->text) and
        their lines; `transcription` is what the recogniser read."""
        read = self.transcribe([image])[0]
        if not read["text"].strip():
            return {"transcription": read, "texts": [], "lines": []}
        near = self.index.search(read["text"], k)
        lines = [self._hit(r + 1, line, None, round(sim, 2), read["text"]) for r, (line, sim) in enumerate(near)]
        texts: list[dict] = []
        seen: set[str] = set()
        for hit in lines:
            if hit["text"] not in seen:
                seen.add(hit["text"])
                texts.append({"rank": len(texts) + 1, "text": hit["text"], "score": hit["similarity"]})
        return {"transcription": read, "texts": texts, "lines": lines}

    def card(self) -> dict[str, Any]:
        info = {k: v for k, v in self.card_data.items() if k not in ("units", "manifests")}
        return {"kind": "line_ocr", "model_dir": self.model_dir, "index_dir": self.index_dir,
                "model_hash": self.model_hash, "index": info, "modes": MODES}
