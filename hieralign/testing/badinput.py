"""A catalogue of malformed and hostile requests, shared by the unit test and the benchmark.

Every case must get a 4xx answer with a message, and the server must answer the next good
request. `good_request()` is that next request. Files are generated here, in memory.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image


@dataclass
class Case:
    name: str  # what is wrong with the request
    method: str  # HTTP method
    path: str  # URL path (+ query)
    build: Callable[[], dict[str, Any]]  # -> httpx.request keyword arguments (content/files/json/headers)
    needs: str = "char"  # "char", "line" or "" = which model must be loaded for the case to be meaningful


def glyph_png(text_box: bool = True, size: int = 64) -> bytes:
    """A small valid image: a dark cross on white (a plausible drawn character)."""
    img = np.full((size, size), 255, np.uint8)
    img[size // 2 - 3: size // 2 + 3, 8:-8] = 0
    img[8:-8, size // 2 - 3: size // 2 + 3] = 0
    return _png(Image.fromarray(img))


def _png(img: Image.Image, fmt: str = "PNG", **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache(maxsize=1)
def bomb_png(side: int = 20000) -> bytes:
    """A valid 1-bit `side` x `side` PNG: ~50 kB on the wire, 400 M pixels when decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("L", (32, 32), 255), Image.new("L", (32, 32), 0)]
    return _png(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def tiff16() -> bytes:
    arr = (np.arange(64 * 64, dtype="<u2").reshape(64, 64) * 16)
    return _png(Image.frombytes("I;16", (64, 64), arr.tobytes()), "TIFF")


def _files(data: bytes, field: str = "images", name: str = "x.png", ctype: str = "image/png") -> dict[str, Any]:
    return {"files": [(field, (name, data, ctype))]}


def cases(max_body_bytes: int, max_text_chars: int) -> list[Case]:
    """The catalogue. Limits are the server's, so the size cases cross them by a margin."""
    good = glyph_png()
    huge_json = json.dumps({"images": ["A" * (max_body_bytes + 1024)]}).encode()
    return [
        Case("empty body", "POST", "/v1/recognize", lambda: {"content": b"", "headers": {"content-type": "application/json"}}),
        Case("empty multipart", "POST", "/v1/recognize",
             lambda: {"content": b"", "headers": {"content-type": "multipart/form-data; boundary=xyz"}}),
        Case("no content type", "POST", "/v1/recognize", lambda: {"content": good}),
        Case("non-image bytes", "POST", "/v1/recognize", lambda: _files(b"%PDF-1.4 this is not an image" * 20)),
        Case("empty file", "POST", "/v1/recognize", lambda: _files(b"")),
        Case("truncated PNG", "POST", "/v1/recognize", lambda: _files(good[: len(good) // 2])),
        Case("20000x20000 PNG (decompression bomb)", "POST", "/v1/recognize", lambda: _files(bomb_png())),
        Case("animated GIF", "POST", "/v1/recognize", lambda: _files(animated_gif(), name="a.gif", ctype="image/gif")),
        Case("16-bit TIFF", "POST", "/v1/recognize", lambda: _files(tiff16(), name="a.tif", ctype="image/tiff")),
        Case("wrong field name", "POST", "/v1/recognize", lambda: _files(good, field="picture")),
        Case("wrong JSON field", "POST", "/v1/recognize", lambda: {"json": {"imgs": ["AAAA"]}}),
        Case("JSON of wrong type", "POST", "/v1/recognize", lambda: {"json": {"images": 5}}),
        Case("malformed JSON", "POST", "/v1/recognize",
             lambda: {"content": b'{"images": [', "headers": {"content-type": "application/json"}}),
        Case("invalid base64", "POST", "/v1/recognize", lambda: {"json": {"images": ["not base64 !!!"]}}),
        Case("huge JSON body", "POST", "/v1/recognize",
             lambda: {"content": huge_json, "headers": {"content-type": "application/json"}}),
        Case("lying Content-Length", "POST", "/v1/recognize",  # raw: HTTP clients refuse to send this
             lambda: {"raw": b"{}", "headers": {"content-type": "application/json",
                                                 "content-length": str(10 * max_body_bytes)}}),
        Case("top_k not a number", "POST", "/v1/recognize",
             lambda: {**_files(good), "data": {"top_k": "five"}}),
        Case("unknown charset", "POST", "/v1/recognize", lambda: {**_files(good), "data": {"candidates": "klingon"}}),
        Case("invalid UTF-8 text", "POST", "/v1/search/text",
             lambda: {"content": b'{"text": "\xff\xfe\xbd"}', "headers": {"content-type": "application/json"}}, "line"),
        Case("over-long text", "POST", "/v1/search/text",
             lambda: {"json": {"text": "\u0f40" * (max_text_chars + 1)}}, "line"),
        Case("blank text", "POST", "/v1/search/text", lambda: {"json": {"text": "   "}}, "line"),
        Case("line search without image", "POST", "/v1/search/image", lambda: _files(good, field="picture"), "line"),
        Case("path-like line image id", "GET", "/v1/lines/image/..%2F..%2F..%2Fetc%2Fpasswd", lambda: {}, ""),
        Case("path-like static file", "GET", "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd", lambda: {}, ""),
        Case("path-like character", "GET", "/v1/characters/..%2F..%2Fetc%2Fpasswd", lambda: {}, ""),
        Case("two characters", "GET", "/v1/characters/%E6%BC%A2%E5%AD%97", lambda: {}, ""),
    ]


def good_request() -> tuple[str, str, dict[str, Any]]:
    """(method, path, kwargs) of a valid recognise request."""
    return "POST", "/v1/recognize", _files(glyph_png())


def send(client: Any, case: Case) -> tuple[int | None, str]:
    """Send `case` with an httpx.Client (raw socket for requests no HTTP client will form);
    returns (status, detail message)."""
    spec = case.build()
    if "raw" in spec:
        return _send_raw(str(client.base_url), case.method, case.path, spec["headers"], spec["raw"])
    response = client.request(case.method, case.path, **spec)
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        detail = response.text
    return response.status_code, str(detail)


def _send_raw(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int | None, str]:
    import socket
    from urllib.parse import urlparse

    url = urlparse(base_url)
    head = f"{method} {path} HTTP/1.1\r\nHost: {url.hostname}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection((url.hostname, url.port or 80), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    status_line, _, rest = raw.partition(b"\r\n")
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    body_text = rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    try:
        return status, str(json.loads(body_text).get("detail", ""))
    except ValueError:
        return status, body_text
