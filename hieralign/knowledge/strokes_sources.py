"""Readers for the stroke sources: KanjiVG SVG files and (optional) hanzi-writer-data JSON."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from hieralign.knowledge.svgpath import path_polyline

KANJIVG_BOX = 109.0  # KanjiVG viewBox is 0 0 109 109
HANZI_WRITER_BOX = 1024.0  # Make Me a Hanzi coordinates: 1024 box, y up, baseline at 900
HANZI_WRITER_TOP = 900.0

_BASE_FILE = re.compile(r"^([0-9a-f]{5})\.svg$")
_PATH_TAG = re.compile(r"<path\b([^>]*)/?>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_STROKE_NO = re.compile(r"-s(\d+)$")


def kanjivg_dir() -> Path:
    """The installed ``kanji/`` directory of the `kanjivg` distribution."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        entries = files("kanjivg") or []
    except PackageNotFoundError as exc:
        raise ModuleNotFoundError("stroke data needs the `kanjivg` package: pip install 'hieralign[data]'") from exc
    for entry in entries:
        if entry.parent.name == "kanji" and entry.name.endswith(".svg"):
            return Path(str(entry.locate())).parent
    raise FileNotFoundError("the kanjivg distribution lists no kanji/*.svg files; reinstall it")


def parse_kanjivg_svg(text: str, source: str, samples_per_curve: int = 8) -> list[tuple[str, np.ndarray]]:
    """Strokes of one KanjiVG file as (type, float32 path in [0,1]²), sorted by stroke number."""
    found: list[tuple[int, str, np.ndarray]] = []
    for match in _PATH_TAG.finditer(text):
        attrs = dict(_ATTR.findall(match.group(1)))
        if "d" not in attrs:
            continue
        number = _STROKE_NO.search(attrs.get("id", ""))
        try:
            poly = path_polyline(attrs["d"], samples_per_curve) / KANJIVG_BOX
        except ValueError as exc:
            raise ValueError(f"{source}: stroke {attrs.get('id', '?')}: {exc}") from exc
        order = int(number.group(1)) if number else len(found) + 1
        found.append((order, attrs.get("kvg:type", ""), poly.astype(np.float32)))
    found.sort(key=lambda item: item[0])
    return [(t, p) for _, t, p in found]


def read_kanjivg(samples_per_curve: int = 8) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Parse every base KanjiVG file (a few seconds; callers cache the result)."""
    from hieralign.utils.progress import progress

    directory = kanjivg_dir()
    names = sorted(n for n in os.listdir(directory) if _BASE_FILE.match(n))
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name in progress(names, desc="parsing KanjiVG"):
        ch = chr(int(name[:5], 16))
        strokes = parse_kanjivg_svg((directory / name).read_text(encoding="utf-8"), str(directory / name),
                                    samples_per_curve)
        if strokes:
            out[ch] = strokes
    return out


def find_hanzi_writer_dir() -> Path | None:
    """The ``hanzi-writer-data`` package directory if npm installed it somewhere we look."""
    env = os.environ.get("HANZI_WRITER_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    roots = [Path.cwd() / "node_modules", Path.home() / "node_modules", Path("/usr/lib/node_modules"),
             Path("/usr/local/lib/node_modules")]
    for root in roots:
        if (root / "hanzi-writer-data").is_dir():
            return root / "hanzi-writer-data"
    return None


def median_to_unit(median: list[list[float]]) -> np.ndarray:
    """Make Me a Hanzi median (1024 box, y up) -> float32 points in [0,1]², y down."""
    pts = np.asarray(median, dtype=np.float64).reshape(-1, 2)
    x = pts[:, 0] / HANZI_WRITER_BOX
    y = (HANZI_WRITER_TOP - pts[:, 1]) / HANZI_WRITER_BOX
    return np.stack([x, y], axis=1).astype(np.float32)


def read_hanzi_writer(directory: Path, skip: set[str]) -> dict[str, list[np.ndarray]]:
    """Medians of every ``<char>.json`` in the package (those in `skip` are not read)."""
    data_dir = directory / "data" if (directory / "data").is_dir() else directory
    out: dict[str, list[np.ndarray]] = {}
    for path in sorted(data_dir.glob("*.json")):
        ch = path.stem
        if len(ch) != 1 or ch in skip:
            continue
        try:
            medians = json.loads(path.read_text(encoding="utf-8"))["medians"]
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}: not a hanzi-writer-data file with 'medians' ({exc})") from exc
        out[ch] = [median_to_unit(m) for m in medians]
    return out
