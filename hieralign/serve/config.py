"""Server settings: where the models are, where to listen, and the limits on what clients send."""

from __future__ import annotations

import os
from dataclasses import dataclass

TOKEN_ENV = "HIERALIGN_API_TOKEN"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServeConfig:
    char_model: str | None = None  # CharRecognizer checkpoint (.safetensors) or ONNX export dir; None = no /v1/recognize
    line_model: str | None = None  # line-OCR folder (hybrid search, /v1/transcribe) or line-CLIP dir; None = no line routes
    index_dir: str | None = None  # transcription or embedding index dir (default: the model's own index)
    line_root: str | None = None  # dir that relative image paths in the index are relative to (its --dataset-dir)
    host: str = "127.0.0.1"  # bind address; anything but loopback requires a token
    port: int = 8000  # TCP port
    token: str | None = None  # API token checked as `Authorization: Bearer <token>` (env HIERALIGN_API_TOKEN)
    max_body_mb: float = 8.0  # request bodies larger than this get 413, counted while reading
    max_image_pixels: int = 16_000_000  # width*height limit, checked from the image header before decoding
    max_image_side: int = 8192  # longest side limit, checked from the header before decoding
    max_images: int = 64  # images per /v1/recognize request
    max_request_pixels: int = 32_000_000  # sum of width*height over a request's images, checked from headers
    max_pixels_in_flight: int = 128_000_000  # decoded pixels held by all requests at once; past it: 503 + Retry-After
    max_in_flight: int = 256  # model requests being served at once; past it: 503 + Retry-After
    max_candidates: int = 20_000  # characters in an explicit candidate list (a charset name has no limit)
    candidate_cache_mb: float = 512.0  # candidate embedding matrices kept (LRU, by bytes) across requests
    max_json_depth: int = 8  # nesting depth of a JSON body (the API's bodies are 2 deep)
    max_query_bytes: int = 65_536  # body limit of the text-search route (no images there)
    max_text_chars: int = 512  # characters per text query
    max_top_k: int = 50  # cap on top_k / k
    default_top_k: int = 5  # top_k when the client does not say
    workers: int = 2  # inference calls run at once in the threadpool (the event loop never blocks)
    batch_wait_ms: float = 4.0  # micro-batching: wait this long to merge concurrent recognise requests (0 = off)
    max_batch: int = 32  # images per merged model call
    backend: str = "auto"  # char backend: "auto" (by path), "torch" or "onnx"
    candidates: str = "etl9g"  # default candidate set: charset name(s), or "model" = the model's training classes
    int8: bool = False  # with an ONNX export dir: use the INT8 image tower when present
    log_level: str = "info"  # uvicorn log level

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def resolved_token(self) -> str | None:
        return self.token or os.environ.get(TOKEN_ENV) or None

    def check_bind(self) -> None:
        """Refuse to listen beyond loopback without a token: the API runs models on request."""
        if self.host not in LOOPBACK_HOSTS and not self.resolved_token():
            raise ValueError(
                f"binding to {self.host!r} exposes the API beyond this machine; set --token or "
                f"{TOKEN_ENV} (clients then send `Authorization: Bearer <token>`), or bind to 127.0.0.1")
