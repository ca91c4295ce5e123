"""The line-OCR (CTC) side of the server: transcription and hybrid search.

`OcrLineService` is a `LineService` whose searcher is an `index.ocr_search.OcrSearcher`: text
search is the transcription index's first stage + CTC-likelihood rerank, and each hit carries
the matched `span` of its transcription; image search decodes the line first and returns what
it read as `transcription`. `/v1/transcribe` reads one or more line images under the same
limits as /v1/recognize (body size, images per request, pixels per image and per request,
decoding off the event loop). Without an index the service still transcribes; search answers 503.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from PIL import Image

from hieralign.serve.backends import LineService
from hieralign.serve.config import ServeConfig
from hieralign.serve.limits import ImageLimits, InputError, load_image, peek_image
from hieralign.serve.requests import Upload, _content_type, _form_uploads, base64_bytes, read_json
from hieralign.serve.schemas import TranscribeJSON


class OcrLineService(LineService):
    """Transcription + hybrid search with a CTC line model (and its transcription index, if any)."""

    def __init__(self, searcher: Any, model_dir: str, index_error: str = ""):
        super().__init__(searcher, roots=[])  # hits carry absolute image paths
        self.model_dir = model_dir
        self.index_error = index_error  # why there is no index (search answers 503 with it)
        self._model: Any = None

    @classmethod
    def load(cls, model_dir: str, index_dir: str | None = None, line_root: str | None = None) -> OcrLineService:
        from hieralign.index.ocr_search import OcrSearcher

        try:
            searcher = OcrSearcher.from_dir(model_dir, index_dir)
        except FileNotFoundError as exc:
            if index_dir is not None:  # an index the user named must exist
                raise
            return cls(None, model_dir, str(exc))
        return cls(searcher, model_dir)

    @property
    def model(self):
        if self.searcher is not None:
            return self.searcher.model
        if self._model is None:
            from hieralign.models.line.ctc_infer import load_line_recognizer

            self._model = load_line_recognizer(self.model_dir)
        return self._model

    def card(self) -> dict[str, Any]:
        if self.searcher is not None:
            return self.searcher.card()
        return {"kind": "line_ocr", "model_dir": self.model_dir, "index": None, "modes": ["transcribe"]}

    def transcribe(self, images: list[Image.Image], beam: int = 1) -> list[dict[str, Any]]:
        from hieralign.models.line.ctc_infer import transcribe_images

        return [{"text": r["text"], "score": round(float(r["score"]), 4)}
                for r in transcribe_images(self.model, images, beam)]

    def _need_index(self) -> None:
        if self.searcher is None:
            raise InputError(503, f"no line index loaded ({self.index_error}); start the server with "
                                  "--line-model DIR --index DIR (hieralign index build)")

    def search_text(self, text: str, k: int) -> dict[str, Any]:
        self._need_index()
        return super().search_text(text, k)

    def search_image(self, image: Image.Image, k: int) -> dict[str, Any]:
        self._need_index()
        raw = self.searcher.search_image(image, k)
        found = self._normalise(raw)
        transcription = raw["transcription"]
        return {**found, "transcription": {"text": transcription["text"],
                                           "score": round(float(transcription["score"]), 4)}}

    def _line_hit(self, item: Any) -> dict[str, Any]:
        span = item.get("span") if isinstance(item, dict) else None
        hit = super()._line_hit({k: v for k, v in item.items() if k != "span"} if isinstance(item, dict) else item)
        hit["span"] = span
        return hit


def decode_lines(uploads: list[Upload], limits: ImageLimits) -> list[Image.Image]:
    """Decode line images to grayscale, transparent = paper (worker thread)."""
    lines = []
    for up in uploads:
        img = load_image(up.image, up.name, limits)
        if img.mode in ("RGBA", "LA", "PA"):
            img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img.convert("RGBA"))
        lines.append(img.convert("L"))
    return lines


async def read_transcribe(request: Request, cfg: ServeConfig, limits: ImageLimits) -> tuple[list[Upload], int]:
    """Body of /v1/transcribe (multipart `images` or JSON base64), headers checked, nothing decoded;
    returns the uploads and the beam width."""
    ctype = _content_type(request)
    if ctype == "multipart/form-data":
        uploads, fields = await _form_uploads(request, cfg, limits)
        beam = fields.get("beam") or 1
    elif ctype == "application/json":
        body = await read_json(request, TranscribeJSON, cfg.max_json_depth)
        if len(body.images) > cfg.max_images:
            raise InputError(413, f"images: {len(body.images)} images, the limit is {cfg.max_images} per request")
        uploads = [Upload(peek_image(base64_bytes(b, f"images[{i}]"), limits, f"images[{i}]"), f"images[{i}]")
                   for i, b in enumerate(body.images)]
        beam = body.beam or 1
    else:
        raise InputError(415, f"unsupported Content-Type {ctype or 'none'!r}; send multipart/form-data "
                              f"(files in field 'images') or application/json (base64 in 'images')")
    if not uploads:
        raise InputError(400, "images: no images given")
    try:
        beam = int(beam)
    except (TypeError, ValueError) as exc:
        raise InputError(400, f"beam: expected an integer, got {str(beam)[:40]!r}") from exc
    if not 1 <= beam <= 16:
        raise InputError(400, "beam: must be between 1 (greedy) and 16")
    return uploads, beam
