"""Parse request bodies (multipart or JSON) into checked inputs, with errors that say what to send instead.

Parsing is split in two so nothing expensive happens before every limit is checked: `read_*`
reads the (size-bounded) body and opens each image *lazily* (header only), then the route checks
the request's pixel budget and calls `decode_*` in a worker thread, off the event loop.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from fastapi import Request
from PIL import Image
from pydantic import BaseModel, ValidationError

from hieralign.serve.config import ServeConfig
from hieralign.serve.limits import ImageLimits, InputError, load_image, peek_image
from hieralign.serve.schemas import RecognizeJSON

M = TypeVar("M", bound=BaseModel)
# Multipart field names accepted for image files: `images` (repeatable) is the API's own,
# `image` the seed document's /predict, `file` what most HTTP clients call an upload.
IMAGE_FIELDS = ("images", "image", "file")
INK_CONTRAST = 32  # grey levels between the lightest and darkest pixel below which a glyph is blank


@dataclass
class Upload:
    image: Image.Image  # opened lazily: header checked, pixels not decoded yet
    name: str  # how error messages refer to it, e.g. "images[2] (kan.png)"

    @property
    def pixels(self) -> int:
        return self.image.size[0] * self.image.size[1]


@dataclass
class RecognizeRequest:
    uploads: list[Upload]
    top_k: int | None
    candidates: list[str] | None  # resolved characters; None = the server's default set
    descriptors: str | None = None  # "decomposition" | "glyphs" | "both"; None = the recogniser's default


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, model: type[M], max_depth: int = 8, max_bytes: int | None = None) -> M:
    """Parse a JSON body into `model`; invalid UTF-8/JSON or too deep -> 400, too big -> 413, wrong fields -> 422."""
    if _content_type(request) != "application/json":
        raise InputError(415, f"expected Content-Type application/json, got {_content_type(request) or 'none'!r}")
    body = await request.body()
    if not body:
        raise InputError(400, "empty request body; send a JSON object")
    if max_bytes is not None and len(body) > max_bytes:
        raise InputError(413, f"request body is {len(body)} bytes, the limit for this route is {max_bytes}")
    data = parse_json(body, max_depth)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(422, _validation_message(exc)) from exc


def parse_json(body: bytes, max_depth: int) -> Any:
    """bytes -> JSON value; 400 for bad UTF-8/JSON or nesting deeper than `max_depth` (never RecursionError)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(400, f"request body is not valid UTF-8 (byte {exc.start}); encode text as UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(400, f"request body is not valid JSON ({exc.msg} at offset {exc.pos})") from exc
    except RecursionError as exc:  # the C parser gives up near the interpreter's recursion limit
        raise InputError(400, f"request body nests JSON deeper than {max_depth} levels") from exc
    if json_depth(data) > max_depth:
        raise InputError(400, f"request body nests JSON deeper than {max_depth} levels")
    return data


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (scalars 0), computed without recursion."""
    depth, level = 0, [(value, 1)]
    while level:
        item, d = level.pop()
        if isinstance(item, dict | list):
            depth = max(depth, d)
            level.extend((child, d + 1) for child in (item.values() if isinstance(item, dict) else item))
    return depth


def _validation_message(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(x) for x in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]]
    return "invalid request: " + "; ".join(parts)


def base64_bytes(text: str, name: str) -> bytes:
    """base64 or data: URL -> bytes."""
    if not isinstance(text, str) or not text:
        raise InputError(400, f"{name}: empty; send base64-encoded image bytes")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(400, f"{name}: not valid base64 ({exc})") from exc


async def _form_uploads(request: Request, cfg: ServeConfig, limits: ImageLimits, max_files: int | None = None):
    try:
        form = await request.form(max_files=max_files or cfg.max_images, max_fields=16, max_part_size=cfg.max_body_bytes)
    except InputError:
        raise
    except Exception as exc:  # starlette raises HTTPException(400) for malformed multipart
        detail = getattr(exc, "detail", None) or str(exc)
        status = getattr(exc, "status_code", 400)
        raise InputError(status if 400 <= status < 500 else 400, f"malformed multipart body: {detail}") from exc
    files = [(key, value) for key, value in form.multi_items() if key in IMAGE_FIELDS and hasattr(value, "read")]
    if not files:
        raise InputError(400, f"no image files in the form; send them as field 'images' (or its aliases "
                              f"'image', 'file') (got fields: {sorted(set(form.keys())) or 'none'})")
    uploads = []
    for i, (key, upload) in enumerate(files):
        name = f"{key}[{i}] ({upload.filename or 'unnamed'})"
        uploads.append(Upload(peek_image(await upload.read(), limits, name), name))
    return uploads, dict(form.multi_items())


def _int_field(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(400, f"{name}: expected an integer, got {str(value)[:40]!r}") from exc
    if number < 1:
        raise InputError(400, f"{name}: must be >= 1")
    return number


async def read_recognize(request: Request, cfg: ServeConfig, limits: ImageLimits) -> RecognizeRequest:
    """Body of /v1/recognize (multipart or JSON), every image header checked, nothing decoded."""
    from hieralign.serve.candidates import request_candidates

    ctype = _content_type(request)
    if ctype == "multipart/form-data":
        uploads, fields = await _form_uploads(request, cfg, limits)
        top_k, candidates, descriptors = fields.get("top_k"), fields.get("candidates"), fields.get("descriptors")
    elif ctype == "application/json":
        body = await read_json(request, RecognizeJSON, cfg.max_json_depth)
        if len(body.images) > cfg.max_images:
            raise InputError(413, f"images: {len(body.images)} images, the limit is {cfg.max_images} per request")
        uploads = [Upload(peek_image(base64_bytes(b, f"images[{i}]"), limits, f"images[{i}]"), f"images[{i}]")
                   for i, b in enumerate(body.images)]
        top_k, candidates, descriptors = body.top_k, body.candidates, body.descriptors
    else:
        raise InputError(415, f"unsupported Content-Type {ctype or 'none'!r}; send multipart/form-data "
                              f"(files in field 'images') or application/json (base64 in 'images')")
    if not uploads:
        raise InputError(400, "images: no images given")
    return RecognizeRequest(uploads, _int_field(top_k, "top_k"), request_candidates(candidates, cfg.max_candidates),
                            _descriptors(descriptors))


DESCRIPTORS = ("decomposition", "glyphs", "both")


def _descriptors(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in DESCRIPTORS:
        raise InputError(400, f"descriptors: {str(value)[:40]!r} is not one of {', '.join(DESCRIPTORS)}")
    return value


async def read_image_upload(request: Request, cfg: ServeConfig, limits: ImageLimits,
                            model: type[M]) -> tuple[Upload, int | None]:
    """One image from multipart (`image`) or JSON (`{"image": base64}`) -> (header-checked upload, k)."""
    ctype = _content_type(request)
    if ctype == "application/json":
        body = await read_json(request, model, cfg.max_json_depth)
        return Upload(peek_image(base64_bytes(body.image, "image"), limits, "image"), "image"), body.k
    if ctype != "multipart/form-data":
        raise InputError(415, f"unsupported Content-Type {ctype or 'none'!r}; send multipart/form-data "
                              f"(field 'image') or application/json (base64 in 'image')")
    uploads, fields = await _form_uploads(request, cfg, limits, max_files=1)
    return uploads[0], _int_field(fields.get("k"), "k")


def decode_glyphs(uploads: list[Upload], limits: ImageLimits) -> list[Image.Image]:
    """Decode character images to grayscale (transparent = paper); a blank image is a 400 "no ink found".

    Runs in a worker thread. Converting here keeps one byte per pixel alive per request instead of
    three or four, and the blank check stops a 1x1 or empty canvas from answering a confident
    nonsense character.
    """
    glyphs = []
    for up in uploads:
        img = load_image(up.image, up.name, limits)
        if img.mode == "RGBA":
            img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
        gray = img.convert("L")
        lo, hi = cast("tuple[int, int]", gray.getextrema())  # one band ('L'): (min, max)
        if hi - lo < INK_CONTRAST:
            raise InputError(400, f"{up.name}: no ink found ({gray.size[0]}x{gray.size[1]} image, grey levels "
                                  f"{lo}..{hi}); send a picture of one character, dark on light or light on dark")
        glyphs.append(gray)
    return glyphs


def decode_line(upload: Upload, limits: ImageLimits) -> Image.Image:
    """Decode a line image (worker thread)."""
    return load_image(upload.image, upload.name, limits)
