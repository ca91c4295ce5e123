"""Pydantic request/response schemas: they are the OpenAPI docs at /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RecognizeJSON(BaseModel):
    images: list[str] = Field(..., description="base64 image bytes (PNG/JPEG/WebP/BMP/GIF), data: URLs accepted")
    top_k: int | None = Field(None, ge=1, description="candidates per image (capped by the server)")
    candidates: str | list[str] | None = Field(
        None, description="charset name (e.g. 'etl9g', 'jis2', 'joyo') or explicit characters; default: the model's")
    descriptors: str | None = Field(
        None, description="what describes a candidate: 'decomposition', 'glyphs' (reference glyphs rendered in "
                          "the model's training fonts) or 'both' fused (default)")


class Candidate(BaseModel):
    char: str = Field(..., description="the candidate character")
    score: float = Field(..., description="fused score: w·glyph_score + (1−w)·decomposition_score (glyph_score "
                                          "missing: decomposition_score alone)")
    decomposition_score: float | None = Field(None, description="cosine of the image and decomposition embeddings")
    glyph_score: float | None = Field(None, description="cosine of the image embedding and the candidate's "
                                                        "reference-glyph prototype; null when no training font draws it")
    descriptor: str | None = Field(None, description="which descriptor decided: 'glyphs' when the weighted glyph "
                                                     "cosine outweighs the decomposition one, else 'decomposition'")
    decomposition: Any = Field(None, description="IDS string of the candidate (cjkvi-ids, model's region)")
    tree: Any = Field(None, description="IDS tree: leaf = component string, inner = {op, children}")


class RecognizeResponse(BaseModel):
    results: list[list[Candidate]] = Field(..., description="one top-k list per input image, in input order")
    model: str = Field(..., description="model name")
    backend: str = Field(..., description="'torch' or 'onnx'")
    elapsed_ms: float = Field(..., description="server-side inference time")


class TextSearch(BaseModel):
    text: str = Field(..., min_length=1, description="query text (any script; NFC-normalised by the searcher)")
    k: int | None = Field(None, ge=1, description="number of lines to return")


class LineHit(BaseModel):
    text: str | None = Field(None, description="transcription of the indexed line")
    score: float | None = Field(None, description="similarity (line-CLIP: cosine; line-OCR text search: "
                                                  "log P(query | line) of the CTC rerank, higher is better)")
    span: list[int] | None = Field(None, description="line-OCR text search: [start, end) character offsets of "
                                                     "the query's best local alignment in `text`")
    image_url: str | None = Field(None, description="URL of the line image (only indexed files are served)")
    info: dict[str, Any] = Field(default_factory=dict, description="other fields the index stores (id, source…)")


class TextHit(BaseModel):
    text: str = Field(..., description="a transcription from the index")
    score: float | None = Field(None, description="similarity")


class Transcription(BaseModel):
    text: str = Field(..., description="what the line-OCR model read (greedy CTC decoding, NFC)")
    score: float = Field(..., description="mean per-frame log-probability of that reading (0 = certain)")


class SearchResponse(BaseModel):
    lines: list[LineHit] = Field(default_factory=list, description="matching line images, best first")
    texts: list[TextHit] = Field(default_factory=list, description="matching transcriptions (image queries)")
    transcription: Transcription | None = Field(None, description="line-OCR image search: the query line's reading")
    elapsed_ms: float = Field(..., description="server-side search time")


class TranscribeJSON(BaseModel):
    images: list[str] = Field(..., description="base64 line images (PNG/JPEG/WebP/BMP/GIF), data: URLs accepted")
    beam: int | None = Field(None, ge=1, le=16, description="beam width; 1 = greedy (default)")


class TranscribeResponse(BaseModel):
    results: list[Transcription] = Field(..., description="one reading per input image, in input order")
    model: str = Field(..., description="line-OCR model folder")
    elapsed_ms: float = Field(..., description="server-side inference time")


class ImageSearchJSON(BaseModel):
    image: str = Field(..., description="base64 line image bytes (data: URL accepted)")
    k: int | None = Field(None, ge=1, description="number of results")


class Health(BaseModel):
    status: str
    char_model: bool
    line_model: bool


class ErrorBody(BaseModel):
    detail: str | list[Any]
