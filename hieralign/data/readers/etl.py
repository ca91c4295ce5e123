"""ETL9G and ETL8G readers (AIST ETL Character Database, "G" = 4-bit grey scans).

Both formats have big-endian 8,199-byte records with a 128×127 image at 4 bits per pixel
(high nibble first; 0 = paper, 15 = darkest ink) and the JIS X 0208 code in the second field.
They differ in the header before the image:
  ETL9G  >2H8sI4B4H2B34x 8128s 7x   image at byte 64
  ETL8G  >2H8sI4B4H2B30x 8128s 11x  image at byte 60
A reader written for ETL8G and pointed at ETL9G reads every image 4 bytes (8 pixels) early.
Whole chunks of records are unpacked with numpy, so reading is I/O bound.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from hieralign.data.readers.base import GlyphRecord, ReadReport

RECORD_SIZE = 8199
WIDTH, HEIGHT = 128, 127


@dataclass(frozen=True)
class EtlFormat:
    name: str  # "etl9g" / "etl8g"
    header: str  # struct format of the full record (documents the layout; checked to be 8,199 bytes)
    image_offset: int  # byte offset of the 8,128-byte packed image inside a record


ETL9G = EtlFormat("etl9g", ">2H8sI4B4H2B34x8128s7x", 64)
ETL8G = EtlFormat("etl8g", ">2H8sI4B4H2B30x8128s11x", 60)
FORMATS = {f.name: f for f in (ETL9G, ETL8G)}
for _fmt in FORMATS.values():
    assert struct.calcsize(_fmt.header) == RECORD_SIZE, _fmt


@lru_cache(maxsize=8192)
def jis_to_char(code: int) -> str | None:
    """JIS X 0208 code (e.g. 0x2422) -> character, via ISO-2022-JP; None if not a valid code."""
    hi, lo = code >> 8, code & 0xFF
    if not (0x21 <= hi <= 0x7E and 0x21 <= lo <= 0x7E):
        return None
    try:
        text = (b"\x1b$B" + bytes([hi, lo]) + b"\x1b(B").decode("iso2022_jp")
    except UnicodeDecodeError:
        return None
    return text if len(text) == 1 else None


def unpack_images(records: np.ndarray, fmt: EtlFormat) -> np.ndarray:
    """(n, 8199) uint8 records -> (n, 127, 128) uint8 ink intensity (0..255)."""
    packed = records[:, fmt.image_offset:fmt.image_offset + WIDTH * HEIGHT // 2]
    pixels = np.empty((len(records), packed.shape[1], 2), np.uint8)
    np.right_shift(packed, 4, out=pixels[:, :, 0])
    np.bitwise_and(packed, 0x0F, out=pixels[:, :, 1])
    pixels *= 17  # 15 -> 255
    return pixels.reshape(len(records), HEIGHT, WIDTH)


def read_etl_chunks(path: str | os.PathLike, fmt: EtlFormat | str = ETL9G, chunk: int = 2048,
                    skip_bad: bool = False, report: ReadReport | None = None
                    ) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
    """Yield (images (n,127,128) uint8, chars, byte offsets) per chunk of good records."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    report = report if report is not None else ReadReport()
    path = Path(path)
    size = path.stat().st_size
    n_full = size // RECORD_SIZE
    name = str(path)
    with open(path, "rb") as f:
        for start in range(0, n_full, chunk):
            n = min(chunk, n_full - start)
            records = np.frombuffer(f.read(n * RECORD_SIZE), np.uint8).reshape(n, RECORD_SIZE)
            codes = (records[:, 2].astype(np.int32) << 8) | records[:, 3]
            chars = [jis_to_char(int(c)) for c in codes]
            offsets = (start + np.arange(n, dtype=np.int64)) * RECORD_SIZE
            good = np.array([c is not None for c in chars], bool)
            for i in np.flatnonzero(~good):
                report.bad(name, int(offsets[i]), f"invalid JIS X 0208 code 0x{int(codes[i]):04X}", skip_bad)
            if not good.all():
                records, offsets = records[good], offsets[good]
                chars = [c for c in chars if c is not None]
            if len(records):
                yield unpack_images(records, fmt), chars, offsets
    if size % RECORD_SIZE:
        report.bad(name, n_full * RECORD_SIZE,
                   f"truncated record ({size % RECORD_SIZE} of {RECORD_SIZE} bytes)", skip_bad)


def read_etl(path: str | os.PathLike, fmt: EtlFormat | str = ETL9G, skip_bad: bool = False,
             report: ReadReport | None = None) -> Iterator[GlyphRecord]:
    """Yield one GlyphRecord per good record of an ETL9G/ETL8G file."""
    source = Path(path).name
    for images, chars, offsets in read_etl_chunks(path, fmt, skip_bad=skip_bad, report=report):
        for image, ch, off in zip(images, chars, offsets.tolist()):
            yield GlyphRecord(image, ch, source, off)


def etl_files(path: str | os.PathLike, fmt: EtlFormat | str = ETL9G) -> list[Path]:
    """A file, or the data files in a directory (ETL9G_01.., ETL8G_01..; INFO/readme files skipped)."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    prefix = fmt.name.upper() + "_"
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.upper().startswith(prefix)
                   and "INFO" not in p.name.upper())
    if not files:
        raise FileNotFoundError(f"{path}: no {prefix}* files found; pass the data files themselves")
    return files
