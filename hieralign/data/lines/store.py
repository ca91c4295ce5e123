"""A memory-mapped store of height-normalised line images, so training steps never wait on
decoding or resizing PNGs.

Layout of a store folder: `pixels.u8` = every line's (width, height) uint8 ink columns
back to back (a line is a contiguous slice, read as a transposed view), `offsets.npy` /
`widths.npy` (column offset and width per line) and `lines.json` (height, texts, styles,
faces, sources, and the manifest's size+mtime so a changed manifest rebuilds the store).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from hieralign.data.lines.height import to_height
from hieralign.utils.io import atomic_write_json
from hieralign.utils.progress import progress

STORE_VERSION = 1


def _manifest_stamp(manifest: Path) -> list[int]:
    st = manifest.stat()
    return [STORE_VERSION, st.st_size, st.st_mtime_ns]


def build_line_store(records: list, dataset_dir: str | os.PathLike, out: str | os.PathLike, height: int = 48,
                     stamp: list[int] | None = None) -> Path:
    """Render `records` (LineRecords with image paths relative to `dataset_dir`) into a store."""
    from PIL import Image

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    widths = []
    with open(tmp / "pixels.u8", "wb") as fh:
        for record in progress(records, desc=f"line store {out.name}", unit="line"):
            with Image.open(record.resolve(dataset_dir)) as image:
                ink = to_height(image.convert("L"), height)
            fh.write(np.ascontiguousarray(ink.T).tobytes())
            widths.append(ink.shape[1])
    w = np.asarray(widths, dtype=np.int64)
    np.save(tmp / "widths.npy", w)
    np.save(tmp / "offsets.npy", np.concatenate([[0], np.cumsum(w)[:-1]]).astype(np.int64))
    atomic_write_json(tmp / "lines.json", {
        "height": height, "stamp": stamp or [], "texts": [r.text for r in records],
        "styles": [r.style for r in records], "sources": [r.source for r in records],
        "faces": [r.extra.get("face", r.extra.get("font", "")) for r in records],
        "fonts": [r.extra.get("font", "") for r in records],
        "text_sources": [r.extra.get("text_source", "") for r in records]})
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


class LineStore:
    """Read side of a store: `store.image(i)` is a (height, width) uint8 ink array."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        meta = json.loads((self.folder / "lines.json").read_text(encoding="utf-8"))
        self.height: int = meta["height"]
        self.stamp: list[int] = meta.get("stamp", [])
        self.texts: list[str] = meta["texts"]
        self.styles: list[str] = meta["styles"]
        self.sources: list[str] = meta["sources"]
        self.faces: list[str] = meta["faces"]
        self.fonts: list[str] = meta.get("fonts", self.faces)
        self.text_sources: list[str] = meta.get("text_sources", [""] * len(self.texts))
        self.widths = np.load(self.folder / "widths.npy")
        self.offsets = np.load(self.folder / "offsets.npy")
        total = int(self.widths.sum())
        self.pixels = np.memmap(self.folder / "pixels.u8", dtype=np.uint8, mode="r", shape=(max(total, 1), self.height))

    def __len__(self) -> int:
        return len(self.texts)

    def image(self, i: int) -> np.ndarray:
        start = int(self.offsets[i])
        return self.pixels[start: start + int(self.widths[i])].T


def cached_line_store(manifest: str | os.PathLike, cache_dir: str | os.PathLike, height: int = 48,
                      limit: int = 0) -> LineStore:
    """The store of a manifest (first `limit` lines if > 0), rebuilt when the manifest changed."""
    from hieralign.data.lines.manifest import read_manifest

    manifest = Path(manifest)
    folder = Path(cache_dir) / (f"{manifest.stem}-h{height}" + (f"-n{limit}" if limit else ""))
    stamp = _manifest_stamp(manifest) + [limit]
    if (folder / "lines.json").is_file():
        store = LineStore(folder)
        if store.stamp == stamp and store.height == height:
            return store
    report = read_manifest(manifest)
    if report.missing or report.unreadable:
        print(f"{manifest}: {report.summary()}")
    records = report.records[:limit] if limit else report.records
    if not records:
        raise ValueError(f"{manifest}: no readable lines")
    return LineStore(build_line_store(records, manifest.parent, folder, height, stamp))
