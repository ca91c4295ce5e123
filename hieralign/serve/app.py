"""The FastAPI application: routes, auth, error mapping. Models are loaded once, outside requests.

Inference runs in a threadpool bounded by `ServeConfig.workers`, and image decoding in another
bounded the same way, so the event loop keeps accepting (and rejecting) requests while a model
is busy. Work admitted at once is bounded twice: by request count (`InFlightLimit`) and by decoded
pixels (`PixelBudget`); past either, 503 with Retry-After.
"""

from __future__ import annotations

import hmac
import time
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image

from hieralign import __version__
from hieralign.serve.backends import CharService, LineService
from hieralign.serve.config import ServeConfig
from hieralign.serve.limits import (
    BodySizeLimit,
    Busy,
    ImageLimits,
    InFlightLimit,
    InputError,
    PixelBudget,
    check_request_pixels,
)
from hieralign.serve.requests import decode_glyphs, decode_line, read_image_upload, read_json, read_recognize
from hieralign.serve.schemas import (
    ErrorBody,
    Health,
    ImageSearchJSON,
    RecognizeJSON,
    RecognizeResponse,
    SearchResponse,
    TextSearch,
    TranscribeResponse,
)

STATIC_DIR = Path(__file__).parent / "static"
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 404, 413, 415, 422, 503)}


class ServerState:
    """Everything a request needs, built once at startup."""

    def __init__(self, cfg: ServeConfig, char: CharService | None, line: LineService | None):
        self.cfg = cfg
        self.char = char
        self.line = line
        self.limits = ImageLimits(cfg.max_image_pixels, cfg.max_image_side)
        self.limiter = anyio.CapacityLimiter(max(1, cfg.workers))
        self.decoders = anyio.CapacityLimiter(max(1, cfg.workers))  # image decoding threads
        self.pixels = PixelBudget(cfg.max_pixels_in_flight)
        self.token = cfg.resolved_token()
        self.batcher = None
        if char is not None:
            from hieralign.serve.candidates import bound_candidate_cache

            bound_candidate_cache(char.recognizer, int(cfg.candidate_cache_mb * 1024 * 1024))
        if char is not None and cfg.batch_wait_ms > 0:
            from hieralign.serve.batching import MicroBatcher

            async def run_batch(images, candidates, top_k, descriptors=None):
                return await self.run(char.recognize, images, candidates, top_k, descriptors)

            self.batcher = MicroBatcher(run_batch, cfg.max_batch, cfg.batch_wait_ms)

    async def recognize(self, service: CharService, images, candidates, top_k: int, descriptors: str | None = None):
        if self.batcher is None:
            return await self.run(service.recognize, images, candidates, top_k, descriptors)
        return await self.batcher.submit(images, candidates, top_k, descriptors)

    async def run(self, fn, *args):
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    async def decode(self, fn, uploads, pixels: int):
        """Hold `pixels` of the in-flight budget, decode in a worker thread; the caller releases."""
        self.pixels.acquire(pixels)
        try:
            return await anyio.to_thread.run_sync(fn, uploads, self.limits, limiter=self.decoders)
        except BaseException:
            self.pixels.release(pixels)
            raise

    def need_char(self) -> CharService:
        if self.char is None:
            raise InputError(503, "no character model loaded; start the server with --model CKPT_OR_EXPORT_DIR")
        return self.char

    def need_line(self) -> LineService:
        if self.line is None:
            raise InputError(503, "no line model loaded; start the server with --line-model DIR [--index DIR] "
                                  "(a line-OCR or line-CLIP model)")
        return self.line

    def top_k(self, asked: int | None) -> int:
        return max(1, min(asked or self.cfg.default_top_k, self.cfg.max_top_k))


def create_app(cfg: ServeConfig, char: CharService | None = None, line: LineService | None = None) -> FastAPI:
    """Build the app around already-loaded services (either may be None: its endpoints answer 503)."""
    Image.MAX_IMAGE_PIXELS = cfg.max_image_pixels  # Pillow's own bomb guard backs up the header check
    state = ServerState(cfg, char, line)
    app = FastAPI(title="hieralign", version=__version__, responses=ERRORS,
                  description="Zero-shot CJK character recognition and line image/text search.")
    app.state.hieralign = state
    app.add_middleware(BodySizeLimit, max_bytes=cfg.max_body_bytes)
    app.add_middleware(InFlightLimit, max_in_flight=cfg.max_in_flight)

    @app.exception_handler(InputError)
    async def _input_error(_: Request, exc: InputError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    def auth(request: Request) -> None:
        if state.token is None:
            return
        given = request.headers.get("authorization", "")
        if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), state.token.encode())):
            raise InputError(401, "missing or wrong API token: send `Authorization: Bearer <token>`")

    _add_meta_routes(app, state, auth)
    _add_char_routes(app, state, auth)
    _add_line_routes(app, state, auth)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _add_meta_routes(app: FastAPI, state: ServerState, auth) -> None:
    @app.get("/", include_in_schema=False)
    async def workbench() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/healthz", response_model=Health)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "char_model": state.char is not None, "line_model": state.line is not None}

    @app.get("/v1/info", dependencies=[Depends(auth)])
    async def info() -> dict[str, Any]:
        """Model cards, backends and the limits clients must respect."""
        cfg = state.cfg
        return {
            "version": __version__, "auth": state.token is not None,
            "char_model": None if state.char is None else {"backend": state.char.backend, **state.char.card()},
            "line_model": None if state.line is None else state.line.card(),
            "limits": {"max_body_bytes": cfg.max_body_bytes, "max_image_pixels": cfg.max_image_pixels,
                       "max_image_side": cfg.max_image_side, "max_images": cfg.max_images,
                       "max_request_pixels": cfg.max_request_pixels, "max_candidates": cfg.max_candidates,
                       "max_json_depth": cfg.max_json_depth, "max_query_bytes": cfg.max_query_bytes,
                       "max_text_chars": cfg.max_text_chars, "max_top_k": cfg.max_top_k},
        }


def _add_char_routes(app: FastAPI, state: ServerState, auth) -> None:
    async def recognize(request: Request) -> dict[str, Any]:
        req = await read_recognize(request, state.cfg, state.limits)
        service = state.need_char()
        pixels = check_request_pixels([u.image for u in req.uploads], state.cfg.max_request_pixels)
        images = await state.decode(decode_glyphs, req.uploads, pixels)
        try:
            start = time.perf_counter()
            results = await state.recognize(service, images, req.candidates, state.top_k(req.top_k), req.descriptors)
        finally:
            del images
            state.pixels.release(pixels)
        return {"results": results, "model": service.name, "backend": service.backend,
                "elapsed_ms": (time.perf_counter() - start) * 1000}

    app.post("/v1/recognize", response_model=RecognizeResponse, dependencies=[Depends(auth)],
             summary="Recognise character images (multipart `images` files or JSON base64)",
             openapi_extra=_recognize_openapi())(recognize)
    app.post("/predict", response_model=RecognizeResponse, dependencies=[Depends(auth)],
             summary="Seed-compatible alias of /v1/recognize (multipart field `image`)")(recognize)

    @app.get("/v1/characters/{char}", dependencies=[Depends(auth)])
    async def character(char: str, region: str = "J") -> dict[str, Any]:
        """Decomposition (IDS tree, strokes) of one character and which loaded models know it."""
        from hieralign.serve.characters import character_info

        return await state.run(character_info, char, region, state.char, state.line)


def _add_line_routes(app: FastAPI, state: ServerState, auth) -> None:
    _add_transcribe_route(app, state, auth)

    @app.post("/v1/search/text", response_model=SearchResponse, dependencies=[Depends(auth)])
    async def search_text(request: Request) -> dict[str, Any]:
        """Text -> matching line images (JSON `{"text": ..., "k": ...}`). With a line-OCR model: the
        transcription index's first stage + CTC-likelihood rerank; each hit has the matched `span`."""
        query = await read_json(request, TextSearch, state.cfg.max_json_depth, state.cfg.max_query_bytes)
        text = query.text.strip()
        if not text:
            raise InputError(400, "text: empty query; type some text")
        if len(text) > state.cfg.max_text_chars:
            raise InputError(413, f"text: {len(text)} characters, the limit is {state.cfg.max_text_chars}")
        service = state.need_line()
        start = time.perf_counter()
        found = await state.run(service.search_text, text, state.top_k(query.k))
        return {**found, "elapsed_ms": (time.perf_counter() - start) * 1000}

    @app.post("/v1/search/image", response_model=SearchResponse, dependencies=[Depends(auth)])
    async def search_image(request: Request) -> dict[str, Any]:
        """Line image -> nearest transcriptions and similar lines (multipart `image` or JSON base64).
        With a line-OCR model the line is decoded first (`transcription`), then matched against the index."""
        upload, k = await read_image_upload(request, state.cfg, state.limits, ImageSearchJSON)
        service = state.need_line()
        pixels = check_request_pixels([upload.image], state.cfg.max_request_pixels)
        image = await state.decode(decode_line, upload, pixels)
        try:
            start = time.perf_counter()
            found = await state.run(service.search_image, image, state.top_k(k))
        finally:
            del image
            state.pixels.release(pixels)
        return {**found, "elapsed_ms": (time.perf_counter() - start) * 1000}

    @app.get("/v1/lines/image/{token}", dependencies=[Depends(auth)], response_class=FileResponse)
    async def line_image(token: str) -> FileResponse:
        """A line image returned by a search; the token is not a path, only indexed files are served."""
        if not (token.isalnum() and token.isascii() and len(token) == 32):
            raise InputError(404, "unknown line image; use an image_url from a search result")
        path = state.need_line().image_path(token)
        if path is None or not path.is_file():
            raise InputError(404, "unknown line image; use an image_url from a search result")
        return FileResponse(path)


def _add_transcribe_route(app: FastAPI, state: ServerState, auth) -> None:
    from hieralign.serve.line_ocr import OcrLineService, decode_lines, read_transcribe

    async def transcribe(request: Request) -> dict[str, Any]:
        uploads, beam = await read_transcribe(request, state.cfg, state.limits)
        service = state.need_line()
        if not isinstance(service, OcrLineService):
            raise InputError(503, "the served line model is a line-CLIP model, which cannot transcribe; start "
                                  "the server with --line-model <line-OCR folder> (hieralign train line-ocr)")
        pixels = check_request_pixels([u.image for u in uploads], state.cfg.max_request_pixels)
        images = await state.decode(decode_lines, uploads, pixels)
        try:
            start = time.perf_counter()
            results = await state.run(service.transcribe, images, beam)
        finally:
            del images
            state.pixels.release(pixels)
        return {"results": results, "model": service.model_dir, "elapsed_ms": (time.perf_counter() - start) * 1000}

    app.post("/v1/transcribe", response_model=TranscribeResponse, dependencies=[Depends(auth)],
             summary="Transcribe line images with the line-OCR model (multipart `images` files or JSON base64)",
             openapi_extra=_transcribe_openapi())(transcribe)


def _transcribe_openapi() -> dict[str, Any]:
    from hieralign.serve.schemas import TranscribeJSON

    files = {"type": "array", "items": {"type": "string", "format": "binary"}}
    form = {"type": "object", "properties": {"images": files, "beam": {"type": "integer", "minimum": 1, "maximum": 16}}}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": form},
                                        "application/json": {"schema": TranscribeJSON.model_json_schema()}},
                            "required": True}}


def _recognize_openapi() -> dict[str, Any]:
    files = {"type": "array", "items": {"type": "string", "format": "binary"}}
    alias = {**files, "description": "alias of `images`"}
    form = {"type": "object", "properties": {"images": files, "image": alias, "file": alias,
                                             "top_k": {"type": "integer"}, "candidates": {"type": "string"},
                                             "descriptors": {"type": "string",
                                                             "enum": ["decomposition", "glyphs", "both"]}}}
    json_body = RecognizeJSON.model_json_schema()
    return {"requestBody": {"content": {"multipart/form-data": {"schema": form},
                                        "application/json": {"schema": json_body}}, "required": True}}
