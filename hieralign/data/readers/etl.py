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
from hieralign.data.readers.checks import (
    CENTRE_MARGIN_PX,
    MIN_LAYOUT_RECORDS,
    check_not_empty,
    ink_centroid_x,
    ink_problem,
    nonzero_padding,
)
from hieralign.errors import UserError

RECORD_SIZE = 8199
WIDTH, HEIGHT = 128, 127


@dataclass(frozen=True)
class EtlFormat:
    name: str  # "etl9g" / "etl8g"
    header: str  # struct format of the full record (documents the layout; checked to be 8,199 bytes)
    image_offset: int  # byte offset of the 8,128-byte packed image inside a record
    padding: tuple[tuple[int, int], ...]  # [start, stop) byte spans the layout leaves undefined (zero)
    charset: str  # the named charset that holds every class of the database


ETL9G = EtlFormat("etl9g", ">2H8sI4B4H2B34x8128s7x", 64, ((30, 64), (8192, 8199)), "etl9g")
ETL8G = EtlFormat("etl8g", ">2H8sI4B4H2B30x8128s11x", 60, ((30, 60), (8188, 8199)), "jis1-hiragana")
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


@lru_cache(maxsize=4)
def _classes(name: str) -> frozenset[str]:
    from hieralign.knowledge.charsets import charset

    return frozenset(c for part in name.split("-") for c in charset(part))


def _record_problems(records: np.ndarray, chars: list[str | None], codes: np.ndarray, fmt: EtlFormat) -> list[str | None]:
    """Per record: why it is not a plausible `fmt` glyph record (None = fine). Images checked later."""
    classes = _classes(fmt.charset)
    padded = nonzero_padding(records, fmt.padding)
    problems: list[str | None] = []
    for ch, code, pad in zip(chars, codes.tolist(), padded.tolist()):
        if ch is None:
            problems.append(f"invalid JIS X 0208 code 0x{code:04X}")
        elif pad:
            problems.append(f"nonzero bytes in the header's undefined fields (not an {fmt.name.upper()} record)")
        elif ch not in classes:
            problems.append(f"{ch!r} (0x{code:04X}) is not one of {fmt.name.upper()}'s classes")
        else:
            problems.append(None)
    return problems


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
    check_not_empty(path)
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
            images = unpack_images(records, fmt)
            problems = [p or ink_problem(img) for p, img in zip(_record_problems(records, chars, codes, fmt), images)]
            good = np.array([p is None for p in problems], bool)
            for i in np.flatnonzero(~good):
                report.bad(name, int(offsets[i]), str(problems[i]), skip_bad)
            if len(good) and good.any():
                yield images[good], [c for c, ok in zip(chars, good) if ok], offsets[good]
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


def looks_like_etl(path: str | os.PathLike) -> bool:
    """Whole 8,199-byte records whose first one has a JIS code and zero ETL9G/ETL8G padding."""
    size = Path(path).stat().st_size
    if size == 0 or size % RECORD_SIZE:
        return False
    with open(path, "rb") as f:
        first = np.frombuffer(f.read(RECORD_SIZE), np.uint8)[None]
    code = (int(first[0, 2]) << 8) | int(first[0, 3])
    return jis_to_char(code) is not None and not nonzero_padding(first, ((30, 60), (8192, 8199)))[0]


def detect_etl_layout(path: str | os.PathLike, claimed: EtlFormat | str, sample: int = 256) -> None:
    """Refuse an ETL file whose records fit the other layout clearly better than the claimed one.

    Evidence: which layout's undefined bytes are zero, then which layout centres the ink (the
    wrong one shifts every image 8 pixels). Files too small or too ambiguous are let through.
    """
    claimed = FORMATS[claimed] if isinstance(claimed, str) else claimed
    other = ETL8G if claimed is ETL9G else ETL9G
    size = Path(path).stat().st_size
    n = min(sample, size // RECORD_SIZE)
    if n < MIN_LAYOUT_RECORDS:  # one writer's odd placement must not decide; real files hold thousands
        return
    with open(path, "rb") as f:
        records = np.frombuffer(f.read(n * RECORD_SIZE), np.uint8).reshape(n, RECORD_SIZE)
    pad_claimed = nonzero_padding(records, claimed.padding).mean()
    pad_other = nonzero_padding(records, other.padding).mean()
    centre = (WIDTH - 1) / 2
    off_claimed = abs(ink_centroid_x(unpack_images(records, claimed)) - centre)
    off_other = abs(ink_centroid_x(unpack_images(records, other)) - centre)
    if pad_claimed > 0.5 > pad_other or (pad_claimed <= pad_other and off_claimed - off_other > CENTRE_MARGIN_PX):
        raise UserError(f"{path}: the records look like {other.name.upper()}, not {claimed.name.upper()} "
                        f"(ink centred {off_other:.1f} px from the middle with the {other.name} layout vs "
                        f"{off_claimed:.1f} px; undefined header bytes nonzero in {pad_claimed:.0%} vs "
                        f"{pad_other:.0%} of records); pass --format {other.name}")


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
