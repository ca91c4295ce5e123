"""A small SVG path-data parser that turns KanjiVG stroke paths into polylines.

Supports the commands KanjiVG and Make Me a Hanzi use (M/m, L/l, H/h, V/v, C/c, S/s, Q/q,
T/t, Z/z); absolute and relative forms; implicit repetition of a command's arguments; numbers
written without separators (``1.5.5`` = 1.5, .5; ``3-2`` = 3, -2). Arcs (A/a) are not used by
either source and are rejected with a clear error.
"""

from __future__ import annotations

import re

import numpy as np

_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtZzAa]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "Z": 0}


def _tokens(d: str) -> list[str | float]:
    out: list[str | float] = []
    for tok in _TOKEN.findall(d):
        out.append(tok if tok.isalpha() else float(tok))
    return out


def _cubic(p0, p1, p2, p3, n: int) -> np.ndarray:
    """n points of a cubic Bézier at t = 1/n .. 1 (the start point belongs to the previous piece)."""
    t = np.linspace(0.0, 1.0, n + 1)[1:, None]
    mt = 1.0 - t
    return mt**3 * p0 + 3 * mt**2 * t * p1 + 3 * mt * t**2 * p2 + t**3 * p3


def parse_path(d: str, samples_per_curve: int = 8) -> list[np.ndarray]:
    """Parse path data into subpaths, each a float64 (n, 2) polyline in the path's coordinates."""
    tokens = _tokens(d)
    subpaths: list[list[np.ndarray]] = []
    pos = np.zeros(2)
    start = np.zeros(2)
    last_ctrl: np.ndarray | None = None  # reflected by S/T
    cmd = ""
    i = 0
    while i < len(tokens):
        if isinstance(tokens[i], str):
            cmd = tokens[i]
            i += 1
            if cmd.upper() == "A":
                raise ValueError(f"SVG path {d[:40]!r}…: arc commands are not supported")
            if cmd in "Zz":
                if subpaths:
                    subpaths[-1].append(start[None, :].copy())
                pos, last_ctrl = start.copy(), None
                continue
        if not cmd:
            raise ValueError(f"SVG path {d[:40]!r}…: numbers before the first command")
        n_args = _ARGS[cmd.upper()]
        args = tokens[i:i + n_args]
        if len(args) < n_args or any(isinstance(a, str) for a in args):
            raise ValueError(f"SVG path {d[:40]!r}…: command {cmd} needs {n_args} numbers")
        i += n_args
        pos, last_ctrl, cmd = _apply(cmd, np.asarray(args, dtype=float), pos, last_ctrl, subpaths, samples_per_curve)
        if cmd in "Mm":
            start = pos.copy()
            cmd = "l" if cmd == "m" else "L"  # extra coordinate pairs after M are line-tos
    return [np.concatenate(parts, axis=0) for parts in subpaths if parts]


def _apply(cmd, a, pos, last_ctrl, subpaths, n):
    """Execute one command with its numbers; returns (new pos, control point for S/T, cmd)."""
    rel = cmd.islower()
    base = pos if rel else np.zeros(2)
    up = cmd.upper()
    if up == "M":
        new = base + a
        subpaths.append([new[None, :].copy()])
        return new, None, cmd
    if not subpaths:
        subpaths.append([pos[None, :].copy()])
    out = subpaths[-1]
    if up in "LHV":
        if up == "L":
            new = base + a
        elif up == "H":
            new = np.array([(pos[0] if rel else 0.0) + a[0], pos[1]])
        else:
            new = np.array([pos[0], (pos[1] if rel else 0.0) + a[0]])
        out.append(new[None, :])
        return new, None, cmd
    if up in "CS":
        if up == "C":
            c1, c2, end = base + a[0:2], base + a[2:4], base + a[4:6]
        else:
            c1 = 2 * pos - last_ctrl if last_ctrl is not None else pos.copy()
            c2, end = base + a[0:2], base + a[2:4]
        out.append(_cubic(pos, c1, c2, end, n))
        return end, c2, cmd
    # Quadratic curves, raised to cubic form.
    if up == "Q":
        q, end = base + a[0:2], base + a[2:4]
    else:
        q = 2 * pos - last_ctrl if last_ctrl is not None else pos.copy()
        end = base + a[0:2]
    out.append(_cubic(pos, pos + 2 / 3 * (q - pos), end + 2 / 3 * (q - end), end, n))
    return end, q, cmd


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
