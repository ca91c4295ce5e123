"""KanjiVG / Make Me a Hanzi stroke paths as polylines, parsed by `svgelements`.

`svgelements` (pure Python, no dependencies) reads the path data: every SVG command, absolute
and relative, implicit repetition, packed numbers (``1.5.5``, ``3-2``). This module only samples
its segments: a line contributes its end point, a curve (cubic, quadratic, arc) `samples_per_curve`
points at t = 1/n .. 1 (its start point belongs to the previous piece), a close-path its subpath's
start. That is the sampling of the hand-written parser this replaced, point for point (max
difference 3e-14 over all 79,921 KanjiVG strokes; tests/knowledge/test_svgpath.py keeps a golden
sample), so the cached stroke NPZ keeps its format.

`svgelements` accepts some malformed data silently (numbers before the first command are
dropped, an unknown letter ends the path); the checks below turn those into errors.
"""

from __future__ import annotations

import re

import numpy as np

_ALLOWED = re.compile(r"^[\sMmLlHhVvCcSsQqTtZzAa0-9eE.,+\-]*$")


def _segments(d: str) -> list:
    try:
        from svgelements import Path
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("stroke paths need `svgelements`: pip install 'hieralign[data]'") from exc
    if not _ALLOWED.match(d):
        raise ValueError(f"SVG path {d[:40]!r}…: characters that are not path data")
    if d.strip() and d.strip()[0] not in "Mm":
        raise ValueError(f"SVG path {d[:40]!r}…: numbers before the first command")
    try:
        return list(Path(d))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"SVG path {d[:40]!r}…: malformed path data (a command lacks numbers?)") from exc


def parse_path(d: str, samples_per_curve: int = 8) -> list[np.ndarray]:
    """Parse path data into subpaths, each a float64 (n, 2) polyline in the path's coordinates."""
    from svgelements import Close, Line, Move

    t = np.linspace(0.0, 1.0, samples_per_curve + 1)[1:]
    subpaths: list[list[np.ndarray]] = []
    for seg in _segments(d):
        if isinstance(seg, Move):
            subpaths.append([np.array([[seg.end.x, seg.end.y]], dtype=np.float64)])
        elif isinstance(seg, (Line, Close)):
            subpaths[-1].append(np.array([[seg.end.x, seg.end.y]], dtype=np.float64))
        else:  # CubicBezier, QuadraticBezier, Arc
            subpaths[-1].append(np.asarray(seg.npoint(t), dtype=np.float64))
    return [np.concatenate(parts, axis=0) for parts in subpaths]


def path_polyline(d: str, samples_per_curve: int = 8) -> np.ndarray:
    """All subpaths of `d` joined into one (n, 2) polyline (a KanjiVG stroke has one subpath)."""
    parts = parse_path(d, samples_per_curve)
    if not parts:
        raise ValueError(f"SVG path {d[:40]!r}…: no drawing commands")
    return np.concatenate(parts, axis=0)


def resample(poly: np.ndarray, n: int) -> np.ndarray:
    """`n` points evenly spaced by arc length along a polyline (a single point is repeated)."""
    poly = np.asarray(poly, dtype=np.float64)
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] <= 1e-12:
        return np.repeat(poly[:1], n, axis=0)
    targets = np.linspace(0.0, cum[-1], n)
    return np.stack([np.interp(targets, cum, poly[:, k]) for k in range(2)], axis=1)
