"""What every reader yields, and how bad records are reported or skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from hieralign.errors import UserError


class GlyphRecord(NamedTuple):
    image: np.ndarray  # uint8 (H, W) ink intensity (0 paper, 255 ink), at the file's own resolution
    char: str  # the character (one code point)
    source: str  # file name the record came from
    offset: int  # byte offset of the record in that file (array index for .npz chunks)


class CorruptRecordError(UserError):
    """A record that cannot be read; names the file and the byte offset."""

    def __init__(self, path: str, offset: int, reason: str):
        self.path, self.offset, self.reason = str(path), int(offset), reason
        super().__init__(f"{path}: bad record at byte offset {offset}: {reason} "
                         "(the file may be truncated or not in the expected format; "
                         "pass --skip-bad / skip_bad=True to skip bad records)")


@dataclass
class ReadReport:
    """Bad records seen while reading with skip_bad=True."""

    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # (file, offset, reason)

    def bad(self, path: str, offset: int, reason: str, skip_bad: bool) -> None:
        """Raise CorruptRecordError, or record and continue when `skip_bad`."""
        if not skip_bad:
            raise CorruptRecordError(path, offset, reason)
        self.skipped.append((str(path), int(offset), reason))

    def summary(self, limit: int = 5) -> str:
        if not self.skipped:
            return "no bad records"
        lines = [f"skipped {len(self.skipped)} bad record(s):"]
        lines += [f"  {p} @ byte {o}: {r}" for p, o, r in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"  ... and {len(self.skipped) - limit} more")
        return "\n".join(lines)


def prepare_scan(image: np.ndarray, floor: int = 32) -> np.ndarray:
    """Clean a scanned ink image: zero faint background noise (<= floor) and stretch the ink so
    its brightest pixel is 255 (ETL scans use only part of the range)."""
    img = image.astype(np.int32)
    img[img <= floor] = 0
    peak = int(img.max())
    if peak == 0:
        return np.zeros(image.shape, np.uint8)
    return np.clip(img * (255.0 / peak), 0, 255).astype(np.uint8)
