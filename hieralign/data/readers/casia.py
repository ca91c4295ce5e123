"""CASIA-HWDB 1.x `.gnt` reader (isolated handwritten characters).

Little-endian records, one after another:
  uint32 sample size (= 10 + width·height), 2-byte GB code (high byte first, decode with gbk),
  uint16 width, uint16 height, width·height bytes of grey (255 = paper, dark = ink).
Records have variable length, so a broken size field loses the framing: with skip_bad the rest
of that file is reported as one bad record and reading goes on with the next file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hieralign.data.readers.base import GlyphRecord, ReadReport
from hieralign.data.readers.checks import check_not_empty, ink_problem

HEADER = struct.Struct("<I2sHH")


def gb_to_char(tag: bytes) -> str | None:
    try:
        text = tag.decode("gbk")
    except UnicodeDecodeError:
        return None
    return text if len(text) == 1 else None


def read_gnt(path: str | os.PathLike, skip_bad: bool = False, report: ReadReport | None = None) -> Iterator[GlyphRecord]:
    """Yield GlyphRecords (ink intensity = 255 - grey) from one .gnt file."""
    report = report if report is not None else ReadReport()
    path = Path(path)
    check_not_empty(path)
    data = path.read_bytes()
    offset, name, source = 0, str(path), path.name
    while offset < len(data):
        if len(data) - offset < HEADER.size:
            report.bad(name, offset, f"truncated header ({len(data) - offset} of {HEADER.size} bytes)", skip_bad)
            return
        size, tag, width, height = HEADER.unpack_from(data, offset)
        if size != HEADER.size + width * height or width == 0 or height == 0:
            report.bad(name, offset, f"sample size {size} does not match 10 + {width}×{height}", skip_bad)
            return  # framing lost: nothing after this point can be trusted
        if offset + size > len(data):
            report.bad(name, offset, f"truncated sample ({len(data) - offset} of {size} bytes)", skip_bad)
            return
        ch = gb_to_char(tag)
        ink = 255 - np.frombuffer(data, np.uint8, width * height, offset + HEADER.size).reshape(height, width)
        problem = f"undecodable GB code 0x{tag.hex().upper()}" if ch is None else ink_problem(ink)
        if problem is not None or ch is None:
            report.bad(name, offset, problem or "undecodable", skip_bad)
        else:
            yield GlyphRecord(ink, ch, source, offset)
        offset += size


def looks_like_gnt(path: str | os.PathLike) -> bool:
    """The first record's size field frames a whole sample of its width x height."""
    with open(path, "rb") as f:
        head = f.read(HEADER.size)
    if len(head) < HEADER.size:
        return False
    size, _, width, height = HEADER.unpack(head)
    return width > 0 and height > 0 and size == HEADER.size + width * height <= Path(path).stat().st_size


def gnt_files(path: str | os.PathLike) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".gnt")
    if not files:
        raise FileNotFoundError(f"{path}: no .gnt files found")
    return files
