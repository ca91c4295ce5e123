"""The seed project's preprocessed ETL9G layout: a directory with

  etl9g_dataset_chunk_0.npz, _1.npz, ...   arrays of images and class indices
  character_mapping.json                   class index -> character (or JIS X 0208 code)
  metadata.json                            optional; may carry the mapping or class list

The seed never documented the schema, so this reader accepts the reasonable variants:
- image array under `X`, `x`, `images`, `imgs`, `data` or `arr_0`: shape (N,H,W), (N,1,H,W),
  (N,H,W,1) or flat (N,H·H); uint8 0..255 or float 0..1 / 0..255. Polarity is detected per
  chunk from the image borders (dark ink on light paper is inverted to ink intensity).
- label array under `y`, `Y`, `labels`, `label`, `targets` or `arr_1`: class indices.
- mapping: {"0": "あ", ...}; {"あ": 0, ...}; values that are JIS codes ("2422", "0x2422",
  9250) or "U+3042"; values that are dicts with `char`/`character` or `jis`/`jis_code`; a list
  (index = position); or any of these under a key such as `index_to_char`, `char_to_index`,
  `class_to_jis`, `characters`, `classes` (also inside metadata.json).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hieralign.data.readers.base import GlyphRecord, ReadReport
from hieralign.data.readers.etl import jis_to_char

IMAGE_KEYS = ("X", "x", "images", "imgs", "data", "arr_0")
LABEL_KEYS = ("y", "Y", "labels", "label", "targets", "arr_1")
MAPPING_KEYS = ("index_to_char", "idx_to_char", "class_to_char", "char_to_index", "char_to_idx",
                "index_to_jis", "class_to_jis", "jis_to_index", "mapping", "characters", "chars", "classes")


def _value_to_char(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("char", "character", "unicode_char"):
            if isinstance(value.get(key), str) and len(value[key]) == 1:
                return value[key]
        for key in ("jis", "jis_code", "code"):
            if key in value:
                return _value_to_char(value[key])
        return None
    if isinstance(value, int):
        return jis_to_char(value)
    if isinstance(value, str):
        if len(value) == 1:
            return value
        if value.upper().startswith("U+"):
            return chr(int(value[2:], 16))
        code = _jis_text(value)
        return jis_to_char(code) if isinstance(code, int) else None
    return None


def _jis_text(text: str) -> int | str:
    m = re.fullmatch(r"(?:0x)?([0-9A-Fa-f]{4})", text.strip())
    return int(m.group(1), 16) if m else text


def parse_mapping(obj: Any) -> dict[int, str]:
    """Any accepted mapping form -> {class index: char}."""
    if isinstance(obj, dict):
        for key in MAPPING_KEYS:
            if key in obj and isinstance(obj[key], (dict, list)):
                return parse_mapping(obj[key])
        keys = list(obj)
        if keys and all(re.fullmatch(r"\d+", str(k)) for k in keys):
            pairs = {int(k): _value_to_char(v) for k, v in obj.items()}
        else:  # char (or JIS code) -> index
            pairs = {int(v): _value_to_char(k) for k, v in obj.items() if isinstance(v, (int, str)) and str(v).isdigit()}
    elif isinstance(obj, list):
        pairs = {}
        for i, v in enumerate(obj):
            index = int(v.get("index", v.get("class", i))) if isinstance(v, dict) else i
            pairs[index] = _value_to_char(v)
    else:
        raise ValueError("character mapping must be a JSON object or list")
    bad = [k for k, v in pairs.items() if v is None]
    if bad:
        raise ValueError(f"cannot read a character for class(es) {bad[:5]} in the character mapping")
    return pairs


def load_mapping(directory: Path) -> dict[int, str]:
    for name in ("character_mapping.json", "metadata.json"):
        path = directory / name
        if path.is_file():
            try:
                return parse_mapping(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError) as exc:
                if name == "metadata.json":
                    break
                raise ValueError(f"{path}: {exc}") from exc
    raise FileNotFoundError(f"{directory}: no usable character_mapping.json (class index -> character); "
                            "see hieralign/data/readers/seed_npz.py for the accepted forms")


def _pick(npz: Any, keys: tuple[str, ...], path: Path, what: str) -> np.ndarray:
    for key in keys:
        if key in npz.files:
            return npz[key]
    raise KeyError(f"{path}: no {what} array (looked for {', '.join(keys)}; found {', '.join(npz.files)})")


def to_ink_images(images: np.ndarray, path: Path) -> np.ndarray:
    """Any accepted image array -> (N,H,W) uint8 ink intensity."""
    arr = np.asarray(images)
    if arr.ndim == 4 and 1 in (arr.shape[1], arr.shape[3]):
        arr = arr.reshape(arr.shape[0], *(arr.shape[2:] if arr.shape[1] == 1 else arr.shape[1:3]))
    elif arr.ndim == 2:
        side = int(round(arr.shape[1] ** 0.5))
        if side * side != arr.shape[1]:
            raise ValueError(f"{path}: flat images of {arr.shape[1]} pixels are not square; reshape them to (N,H,W)")
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim != 3:
        raise ValueError(f"{path}: image array of shape {images.shape} is not (N,H,W), (N,1,H,W) or (N,H*W)")
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float32)
        arr = arr * 255.0 if arr.max(initial=0) <= 1.0 else arr
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    border = np.concatenate([arr[:, 0], arr[:, -1], arr[:, :, 0], arr[:, :, -1]], axis=1)
    if len(arr) and border.mean() > 127:  # light paper: convert dark ink to ink intensity
        arr = 255 - arr
    return arr


def chunk_files(directory: Path) -> list[Path]:
    files = list(directory.glob("*chunk_*.npz")) or list(directory.glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"{directory}: no etl9g_dataset_chunk_*.npz files")

    def order(p: Path) -> tuple[int, str]:
        m = re.search(r"(\d+)\.npz$", p.name)
        return (int(m.group(1)) if m else -1, p.name)

    return sorted(files, key=order)


def read_seed_dir(path: str | os.PathLike, skip_bad: bool = False, report: ReadReport | None = None) -> Iterator[GlyphRecord]:
    """Yield GlyphRecords from a seed dataset directory; `offset` is the index inside the chunk."""
    report = report if report is not None else ReadReport()
    directory = Path(path)
    if directory.is_file():
        directory = directory.parent
    mapping = load_mapping(directory)
    for chunk in chunk_files(directory):
        with np.load(chunk, allow_pickle=False) as npz:
            images = to_ink_images(_pick(npz, IMAGE_KEYS, chunk, "image"), chunk)
            labels = _pick(npz, LABEL_KEYS, chunk, "label")
        if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot targets
            labels = labels.argmax(axis=1)
        labels = labels.reshape(-1)
        if len(labels) != len(images):
            raise ValueError(f"{chunk}: {len(images)} images but {len(labels)} labels")
        for i, (image, label) in enumerate(zip(images, labels.tolist())):
            ch = mapping.get(int(label))
            if ch is None:
                report.bad(str(chunk), i, f"class index {label} has no character in the mapping", skip_bad)
                continue
            yield GlyphRecord(image, ch, chunk.name, i)
