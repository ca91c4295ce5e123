"""Reading request bodies into validated Python values, with errors that say what to send instead."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from fastapi import Request
from PIL import Image
from pydantic import BaseModel, ValidationError

from hieralign.serve.config import ServeConfig
from hieralign.serve.limits import ImageLimits, InputError, open_image
from hieralign.serve.schemas import RecognizeJSON

M = TypeVar("M", bound=BaseModel)
IMAGE_FIELDS = ("images", "image", "file")  # multipart field names accepted for image files


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, model: type[M]) -> M:
    """Parse a JSON body into `model`; invalid UTF-8/JSON -> 400, wrong fields -> 422."""
    if _content_type(request) != "application/json":
        raise InputError(415, f"expected Content-Type application/json, got {_content_type(request) or 'none'!r}")
    body = await request.body()
    if not body:
        raise InputError(400, "empty request body; send a JSON object")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(400, f"request body is not valid UTF-8 (byte {exc.start}); encode text as UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(400, f"request body is not valid JSON ({exc.msg} at offset {exc.pos})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(422, _validation_message(exc)) from exc


def _validation_message(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(x) for x in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]]
    return "invalid request: " + "; ".join(parts)


def decode_base64_image(text: str, limits: ImageLimits, name: str) -> Image.Image:
    """base64 or data: URL -> image (size limits checked before decoding pixels)."""
    if not isinstance(text, str) or not text:
        raise InputError(400, f"{name}: empty; send base64-encoded image bytes")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(400, f"{name}: not valid base64 ({exc})") from exc
    return open_image(data, limits, name)


async def _form_images(request: Request, cfg: ServeConfig, limits: ImageLimits, max_files: int | None = None):
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
        raise InputError(400, f"no image files in the form; send them as field 'images' or 'image' (got fields: "
                              f"{sorted(set(form.keys())) or 'none'})")
    images = []
    for i, (key, upload) in enumerate(files):
        data = await upload.read()
        images.append(open_image(data, limits, f"{key}[{i}] ({upload.filename or 'unnamed'})"))
    return images, dict(form.multi_items())


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


def _candidates(value: Any) -> Any:
    """A charset name, a string of characters, or a list of single characters."""
    if value in (None, ""):
        return None
    if isinstance(value, list):
        if not value or not all(isinstance(c, str) and len(c) == 1 for c in value):
            raise InputError(400, "candidates: a list must hold single characters")
        return value
    value = str(value)
    if value.isascii() and value.replace("_", "").replace("-", "").isalnum():
        return value  # a charset name, checked by the recogniser
    return list(dict.fromkeys(value))  # a string of characters, duplicates dropped


async def read_recognize(request: Request, cfg: ServeConfig, limits: ImageLimits):
    """-> (images, top_k, candidates) from multipart or JSON."""
    ctype = _content_type(request)
    if ctype == "multipart/form-data":
        images, fields = await _form_images(request, cfg, limits)
        top_k, candidates = fields.get("top_k"), fields.get("candidates")
    elif ctype == "application/json":
        body = await read_json(request, RecognizeJSON)
        if len(body.images) > cfg.max_images:
            raise InputError(413, f"images: {len(body.images)} images, the limit is {cfg.max_images} per request")
        images = [decode_base64_image(b, limits, f"images[{i}]") for i, b in enumerate(body.images)]
        top_k, candidates = body.top_k, body.candidates
    else:
        raise InputError(415, f"unsupported Content-Type {ctype or 'none'!r}; send multipart/form-data "
                              f"(files in field 'images') or application/json (base64 in 'images')")
    if not images:
        raise InputError(400, "images: no images given")
    return images, _int_field(top_k, "top_k"), _candidates(candidates)


async def read_image_upload(request: Request, cfg: ServeConfig, limits: ImageLimits,
                            model: type[M]) -> tuple[Image.Image, int | None]:
    """One image from multipart (`image`) or JSON (`{"image": base64}`) -> (image, k)."""
    ctype = _content_type(request)
    if ctype == "application/json":
        body = await read_json(request, model)
        return decode_base64_image(body.image, limits, "image"), body.k
    if ctype != "multipart/form-data":
        raise InputError(415, f"unsupported Content-Type {ctype or 'none'!r}; send multipart/form-data "
                              f"(field 'image') or application/json (base64 in 'image')")
    images, fields = await _form_images(request, cfg, limits, max_files=1)
    return images[0], _int_field(fields.get("k"), "k")
