"""`GlyphStore`: a directory of pre-rendered glyphs that training reads with no decoding.

Layout (all little-endian, numpy native):
  images.u8    raw uint8 N×H×W (ink intensity), memory-mapped for O(1) random access
  labels.npy   int32 (N,)  index into meta["charset"]
  styles.npy   int16 (N,)  index into meta["styles"]   (e.g. printed, handwriting, etl9g)
  sources.npy  int16 (N,)  index into meta["sources"]  (font family/face, synth, ETL file)
  meta.json    charset, split/protocol, image size, style and source names, build args, counts;
               written last, with "complete": true.

`GlyphStoreWriter` builds into a hidden sibling directory and renames it into place only when
everything is written, so a killed build never leaves something that opens as a store.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hieralign.errors import EmptyDatasetError, UserError
from hieralign.utils.io import atomic_write_json

FORMAT_VERSION = 1


class GlyphStoreWriter:
    """Append glyphs in chunks; `close()` finalises atomically. Use as a context manager: an
    exception inside the block discards the partial store."""

    def __init__(self, path: str | os.PathLike, charset: Sequence[str], size: int = 64, capacity: int = 1024,
                 overwrite: bool = False, meta: dict[str, Any] | None = None):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} already exists; pass --overwrite (overwrite=True) or choose another --out")
        self.charset = list(charset)
        self.char_index = {c: i for i, c in enumerate(self.charset)}
        self.size = size
        self.extra_meta = dict(meta or {})
        self.styles: list[str] = []
        self.sources: list[str] = []
        self.count = 0
        self.tmp = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        _remove_stale_partials(self.path)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self._images_path = self.tmp / "images.u8"
        self._capacity = 0
        self._images: np.memmap | None = None
        self._labels = np.zeros(0, np.int32)
        self._styles = np.zeros(0, np.int16)
        self._sources = np.zeros(0, np.int16)
        self._grow(max(1, capacity))
        self._started = time.time()

    def _grow(self, capacity: int) -> None:
        if self._images is not None:
            self._images.flush()
            del self._images
        with open(self._images_path, "ab") as f:
            f.truncate(capacity * self.size * self.size)
        self._images = np.memmap(self._images_path, np.uint8, "r+", shape=(capacity, self.size, self.size))
        for name in ("_labels", "_styles", "_sources"):
            old = getattr(self, name)
            new = np.zeros(capacity, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        self._capacity = capacity

    def _name_id(self, table: list[str], name: str) -> int:
        if name not in table:
            if len(table) >= 32767:
                raise ValueError("more than 32,767 style/source names do not fit int16")
            table.append(name)
        return table.index(name)

    def append(self, images: np.ndarray, labels: Sequence[int | str] | np.ndarray, style: str | Sequence[str],
               source: str | Sequence[str]) -> None:
        """Add images (n,H,W uint8) with labels (charset indices or characters) and one style /
        source name for the chunk or one per image."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        n = len(images)
        if images.shape[1:] != (self.size, self.size) or images.dtype != np.uint8:
            raise ValueError(f"expected uint8 images of shape (n, {self.size}, {self.size}), got {images.dtype} {images.shape}")
        labels = self._label_ids(labels, n)
        if self.count + n > self._capacity:
            self._grow(max(self.count + n, int(self._capacity * 1.5)))
        sl = slice(self.count, self.count + n)
        self._images[sl] = images
        self._labels[sl] = labels
        self._styles[sl] = self._ids(self.styles, style, n)
        self._sources[sl] = self._ids(self.sources, source, n)
        self.count += n

    def _label_ids(self, labels: Any, n: int) -> np.ndarray:
        labels = list(labels) if not isinstance(labels, np.ndarray) else labels
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} images")
        if n and isinstance(labels[0], str):
            missing = sorted({c for c in labels if c not in self.char_index})
            if missing:
                raise KeyError(f"characters not in the store's charset: {''.join(missing[:20])}")
            return np.array([self.char_index[c] for c in labels], np.int32)
        ids = np.asarray(labels, np.int64)
        if n and (ids.min() < 0 or ids.max() >= len(self.charset)):
            raise ValueError(f"label index out of range 0..{len(self.charset) - 1}")
        return ids.astype(np.int32)

    def _ids(self, table: list[str], names: str | Sequence[str], n: int) -> np.ndarray:
        if isinstance(names, str):
            return np.full(n, self._name_id(table, names), np.int16)
        return np.array([self._name_id(table, s) for s in names], np.int16)

    def close(self) -> GlyphStore:
        """Trim, write the arrays, meta.json last, and move the directory into place."""
        self._images.flush()
        del self._images
        self._images = None
        os.truncate(self._images_path, self.count * self.size * self.size)
        np.save(self.tmp / "labels.npy", self._labels[: self.count])
        np.save(self.tmp / "styles.npy", self._styles[: self.count])
        np.save(self.tmp / "sources.npy", self._sources[: self.count])
        atomic_write_json(self.tmp / "meta.json", self._meta())
        if self.path.exists():
            trash = self.path.parent / f".{self.path.name}.old-{os.getpid()}"
            os.replace(self.path, trash)
            os.replace(self.tmp, self.path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self.tmp, self.path)
        return GlyphStore.open(self.path, allow_empty=True)  # callers decide whether empty is an error

    def _meta(self) -> dict[str, Any]:
        labels = self._labels[: self.count]
        by_style = Counter(self.styles[i] for i in self._styles[: self.count].tolist())
        by_source = Counter(self.sources[i] for i in self._sources[: self.count].tolist())
        return {
            **self.extra_meta,
            "format": "hieralign-glyph-store", "version": FORMAT_VERSION, "complete": True,
            "count": self.count, "image_size": [self.size, self.size], "dtype": "uint8",
            "charset": "".join(self.charset), "num_classes_present": int(np.unique(labels).size),
            "styles": self.styles, "sources": self.sources,
            "counts_by_style": dict(by_style), "counts_by_source": dict(by_source),
            "seconds": round(time.time() - self._started, 2),
        }

    def abort(self) -> None:
        if self._images is not None:
            del self._images
            self._images = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> GlyphStoreWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif self._images is not None:
            self.close()


def _remove_stale_partials(path: Path) -> None:
    """Delete half-written siblings left by killed builds (their process no longer exists)."""
    if not path.parent.is_dir():
        return
    for tmp in path.parent.glob(f".{path.name}.partial-*"):
        try:
            pid = int(tmp.name.rsplit("-", 1)[1])
            os.kill(pid, 0)  # raises if no such process
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


class GlyphStore:
    """A finished store opened read-only. `store[i] -> (image (H,W) uint8, label int)`."""

    def __init__(self, path: Path, meta: dict[str, Any], images: np.ndarray, labels: np.ndarray,
                 styles: np.ndarray, sources: np.ndarray):
        self.path, self.meta = path, meta
        self.images, self.labels, self.styles, self.sources = images, labels, styles, sources
        self.charset: list[str] = list(meta["charset"])
        self.style_names: list[str] = list(meta["styles"])
        self.source_names: list[str] = list(meta["sources"])

    @classmethod
    def open(cls, path: str | os.PathLike, allow_empty: bool = False) -> GlyphStore:
        """Open a complete store; an empty one is an EmptyDatasetError unless `allow_empty`."""
        path = Path(path)
        meta_path = path / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{path} is not a glyph store (no meta.json): build one with "
                                    "`hieralign data build` or `hieralign data import`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != "hieralign-glyph-store" or not meta.get("complete"):
            raise UserError(f"{meta_path}: not a complete hieralign glyph store; rebuild it")
        n, (h, w) = int(meta["count"]), meta["image_size"]
        img_path = path / "images.u8"
        actual = img_path.stat().st_size if img_path.is_file() else -1
        if actual != n * h * w:
            raise UserError(f"{img_path}: {actual} bytes, expected {n}×{h}×{w} = {n * h * w}; the store is damaged, rebuild it")
        if n == 0 and not allow_empty:
            raise EmptyDatasetError(f"{path}: the glyph store holds no images; rebuild it with `hieralign data "
                                    "build` or `hieralign data import` (check that its input had records)")
        images = np.memmap(img_path, np.uint8, "r", shape=(n, h, w)) if n else np.zeros((0, h, w), np.uint8)
        arrays = [np.load(path / f"{name}.npy", mmap_mode="r") for name in ("labels", "styles", "sources")]
        for name, arr in zip(("labels", "styles", "sources"), arrays):
            if len(arr) != n:
                raise UserError(f"{path / (name + '.npy')}: {len(arr)} entries, expected {n}; rebuild the store")
        return cls(path, meta, images, *arrays)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.asarray(self.images[i]), int(self.labels[i])

    def char(self, i: int) -> str:
        return self.charset[int(self.labels[i])]

    def indices_for(self, chars: Sequence[str] | None = None, styles: Sequence[str] | None = None) -> np.ndarray:
        """Indices of images whose character is in `chars` and style in `styles` (None = any)."""
        keep = np.ones(len(self), bool)
        if chars is not None:
            index = {c: i for i, c in enumerate(self.charset)}
            wanted = np.zeros(len(self.charset), bool)
            wanted[[index[c] for c in chars if c in index]] = True
            keep &= wanted[np.asarray(self.labels)]
        if styles is not None:
            ids = [self.style_names.index(s) for s in styles if s in self.style_names]
            keep &= np.isin(np.asarray(self.styles), ids)
        return np.flatnonzero(keep)

    def __repr__(self) -> str:
        return f"GlyphStore({str(self.path)!r}, n={len(self)}, classes={len(self.charset)}, styles={self.style_names})"
