"""`LineSearcher`: text -> line, line -> text and line -> line search over a line index.

The server and the `hieralign search` command both use this class:

    searcher = LineSearcher.from_dir("runs/line_clip_small", "runs/line_index")
    searcher.search_text("བཀྲ་ཤིས་བདེ་ལེགས", k=5)        # {"lines": [...], "texts": [...]}
    searcher.search_image(PIL.Image.open("line.png"), k=5)  # {"texts": [...], "lines": [...]}

`lines` hits come from the image modality (line images), `texts` hits from the text modality
(transcriptions); each hit carries rank, score (cosine), id, path, text, split, source, style.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from hieralign.index.faiss_index import LineIndex, build_index
from hieralign.models.line.artifacts import LineEncoder
from hieralign.models.line.embeddings import read_embeddings


class LineSearcher:
    """A line-CLIP model plus an index built with that model."""

    def __init__(self, encoder: LineEncoder, index: LineIndex, model_dir: str = "", index_dir: str = ""):
        if index.dim != encoder.dim:
            raise ValueError(f"index dim {index.dim} != model embedding dim {encoder.dim}: "
                             "rebuild the index with this model (`hieralign index build --model ...`)")
        self.encoder, self.index = encoder, index
        self.model_dir, self.index_dir = model_dir, index_dir

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike, index_dir: str | os.PathLike | None = None) -> LineSearcher:
        """Load a trained model; the index from `index_dir`, else the model's `faiss_embeddings.npy`."""
        encoder = LineEncoder.from_dir(model_dir)
        if index_dir is not None:
            from hieralign.index.fingerprint import check_index_model, weights_hash

            index = LineIndex.load(index_dir)
            if index.model_hash:
                check_index_model(index.model_hash, weights_hash(encoder.model), str(index_dir), str(model_dir))
        elif (Path(model_dir) / "faiss_embeddings.npy").is_file():
            vectors, meta = read_embeddings(model_dir)
            index = build_index(vectors, meta, kind="flat", model_dir=str(model_dir))
        else:
            raise FileNotFoundError(f"{model_dir} has no faiss_embeddings.npy and no --index was given: "
                                    "build one with `hieralign index build --model DIR --manifest M --output IDX`")
        return cls(encoder, index, str(model_dir), str(index_dir or ""))

    def _search(self, query: np.ndarray, k: int) -> dict[str, list[dict]]:
        return {"lines": self.index.search(query, k, "image")[0], "texts": self.index.search(query, k, "text")[0]}

    def search_text(self, text: str, k: int = 10) -> dict[str, list[dict]]:
        """Lines whose image matches `text` (text->line) and stored transcriptions close to it."""
        if not text or not text.strip():
            raise ValueError("empty text query")
        return self._search(self.encoder.embed_texts([text]), k)

    def search_image(self, image: Image.Image, k: int = 10) -> dict[str, list[dict]]:
        """Transcriptions that match a line image (line->text) and similar line images (line->line)."""
        return self._search(self.encoder.embed_images([image]), k)

    def card(self) -> dict:
        """What the server shows about the loaded model and index."""
        config = self.encoder.model.config.to_dict()
        return {"kind": "line_clip", "model_dir": self.model_dir, "index_dir": self.index_dir,
                "embed_dim": self.encoder.dim, "vision": config["vision"], "text": config["text"],
                "text_max_length": self.encoder.text_max_length, "preprocess": self.encoder.preprocess.to_dict(),
                "index": self.index.info(), "modes": ["text2line", "image2text", "image2line", "text2text"]}
