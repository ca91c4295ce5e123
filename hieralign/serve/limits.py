"""Input limits enforced before work is done: body size while reading, image size from the header.

A client can send a 20000x20000 PNG that is 400 kB on the wire and 400 MB decoded, or stream an
endless body. Both are stopped early: the body by counting bytes as they arrive (not after), the
image by reading only its header (`Image.open` is lazy) before `load()` allocates pixels.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Formats a glyph or line image comes in. TIFF (16-bit, multi-page, exotic compressions) and the
# long tail of Pillow's readers are refused rather than half-supported.
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
ALLOWED_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "PA")


class InputError(ValueError):
    """A client error: carries the HTTP status and a message that says what to change."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ImageLimits:
    max_pixels: int  # width*height
    max_side: int  # longest side


def open_image(data: bytes, limits: ImageLimits, name: str = "image") -> Image.Image:
    """Decode `data` into a loaded RGB/L/RGBA image, refusing anything outside the limits."""
    return load_image(peek_image(data, limits, name), name, limits)


def peek_image(data: bytes, limits: ImageLimits, name: str = "image") -> Image.Image:
    """Open `data` lazily and check its header (format, size, frames, mode); no pixel is decoded."""
    if not data:
        raise InputError(400, f"{name}: empty file; send PNG, JPEG, WebP, BMP or GIF bytes")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_large(name, limits) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(415, f"{name}: not a readable image ({len(data)} bytes); send PNG, JPEG, WebP, "
                              f"BMP or GIF") from exc
    _check_header(img, limits, name)
    return img


def load_image(img: Image.Image, name: str = "image", limits: ImageLimits | None = None) -> Image.Image:
    """Decode the pixels of an image `peek_image` accepted -> mode L, RGB or RGBA."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise _too_large(name, limits) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(400, f"{name}: image data is truncated or corrupt ({exc})") from exc
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
    return img


def _too_large(name: str, limits: ImageLimits | None) -> InputError:
    """The 413 for an image Pillow's own guard stopped: quote the server's limit, not Pillow's."""
    limit = limits.max_pixels if limits is not None else Image.MAX_IMAGE_PIXELS
    return InputError(413, f"{name}: image too large: more than {limit} pixels (the server's "
                           f"--max-image-pixels); downscale it first")


def check_request_pixels(images: list[Image.Image], max_pixels: int) -> int:
    """Sum of width*height over a request's (header-only) images; 413 past `max_pixels`."""
    total = sum(img.size[0] * img.size[1] for img in images)
    if total > max_pixels:
        raise InputError(413, f"images: {len(images)} images of {total} pixels in all, the limit is "
                              f"{max_pixels} pixels per request (server --max-request-pixels); send fewer "
                              f"or smaller images")
    return total


class PixelBudget:
    """Decoded pixels all in-flight requests may hold at once: the server's memory ceiling for images.

    Used from the event loop only (acquire/release are plain arithmetic, no await in between), so
    it needs no lock. A request that does not fit answers 503 with Retry-After instead of queueing
    unbounded decoded images.
    """

    def __init__(self, max_pixels: int):
        self.max_pixels = max_pixels  # ceiling on the sum of held pixels
        self.held = 0  # pixels held now

    def acquire(self, pixels: int) -> None:
        if self.held and self.held + pixels > self.max_pixels:
            raise Busy("the server is decoding as many image pixels as it allows at once; retry shortly")
        self.held += pixels

    def release(self, pixels: int) -> None:
        self.held -= pixels


class Busy(InputError):
    """503 + Retry-After: a limit on concurrent work is reached (not the client's fault)."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(503, message)
        self.retry_after = retry_after  # seconds


def _check_header(img: Image.Image, limits: ImageLimits, name: str) -> None:
    fmt = img.format or "unknown"
    if fmt not in ALLOWED_FORMATS:
        raise InputError(415, f"{name}: {fmt} images are not accepted; send PNG, JPEG, WebP, BMP or GIF")
    width, height = img.size
    if width < 1 or height < 1:
        raise InputError(400, f"{name}: image has no pixels ({width}x{height})")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise InputError(413, f"{name}: {width}x{height} exceeds the limits ({limits.max_side} px per side, "
                              f"{limits.max_pixels} pixels; server --max-image-side/--max-image-pixels); "
                              f"downscale it first")
    if getattr(img, "n_frames", 1) > 1:
        raise InputError(415, f"{name}: animated/multi-frame {fmt} ({img.n_frames} frames); send one still image")
    if img.mode not in ALLOWED_MODES:
        raise InputError(415, f"{name}: pixel mode {img.mode!r} (e.g. 16-bit or CMYK) is not accepted; "
                              f"save it as 8-bit grayscale or RGB")


class BodyTooLarge(InputError):
    """Raised from `receive()` while the body streams in; the app's InputError handler answers 413."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"request body exceeds {max_bytes} bytes; send fewer or smaller images "
                              f"(server --max-body-mb)")


class BodySizeLimit:
    """ASGI middleware: 413 as soon as Content-Length or the bytes received pass `max_bytes`."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await _send_error(send, 413, BodyTooLarge(self.max_bytes).message)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:  # read outside a route (no handler there): answer here
            if not started:
                await _send_error(send, 413, exc.message)


class InFlightLimit:
    """ASGI middleware: at most `max_in_flight` model requests at once; the next gets 503 + Retry-After.

    Only model routes count (`/v1/*`, `/predict`): `/healthz`, the page and the docs stay answerable
    while the server is saturated.
    """

    def __init__(self, app, max_in_flight: int):
        self.app = app
        self.max_in_flight = max_in_flight
        self.active = 0  # requests inside the app now (event-loop only: no lock needed)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/v1/") or path == "/predict"):
            return await self.app(scope, receive, send)
        if self.active >= self.max_in_flight:
            return await _send_error(send, 503, f"the server is serving {self.active} requests, its limit "
                                                f"(--max-in-flight); retry shortly", [(b"retry-after", b"1")])
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


async def _send_error(send, status: int, message: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *extra]})
    await send({"type": "http.response.body", "body": body})
