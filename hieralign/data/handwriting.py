"""Handwriting synthesis from stroke paths (KanjiVG polylines).

One sample = one imaginary writer writing one character:
- a writer style (pen width, how brush-like the width profile is, sloppiness, slant, ink level,
  how often strokes are joined) drawn per sample;
- character-level affine jitter (rotation, shear/slant, anisotropic scale);
- per-stroke jitter: offset, rotation and scale about the stroke's centre, a slight upward tilt
  of horizontal strokes (a habit of Japanese handwriting), over/undershoot at both ends, and a
  smooth low-frequency wobble along the stroke;
- a width profile from pen pressure: ramp-in at the start; left/right-falling strokes (harai)
  and hooks taper at the tail, dots grow towards their end, other strokes end with a slight
  press (tome);
- drawn anti-aliased: quads and discs along the path on a supersampled canvas, then cropped to
  the ink and fitted exactly like printed glyphs (`render.normalize_glyph`).
Everything is drawn from the numpy Generator passed in, so a (seed, char, sample) triple always
gives the same image.

`synthesize_canvas` is the pen-drawn style of the workbench canvas (a mouse or a finger): the
same writer jitter, but uniform-width polylines with round caps and joins, no pressure profile,
no brush taper, full black ink, the pointer sampled every few pixels (straight segments between
samples). Like every synthetic style it is drawn from KanjiVG strokes, so it trains on seen
characters only and never describes a candidate (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from hieralign.data.render import normalize_glyph


@dataclass
class HandwritingConfig:
    size: int = 64  # output side in pixels
    margin: int = 4  # blank border kept around the fitted ink box (same as RenderConfig)
    supersample: int = 4  # drawing canvas = size * supersample, downscaled for anti-aliasing
    width: tuple[float, float] = (0.03, 0.068)  # pen width range, in units of the [0,1] character box
    dense_strokes: int = 10  # above this many strokes the pen width shrinks by sqrt(dense_strokes / n)
    min_width_factor: float = 0.6  # ... but never below this fraction (dense characters stay legible)
    brush: tuple[float, float] = (0.0, 1.0)  # 0 = even ballpoint width, 1 = strong brush-like pressure profile
    sloppiness: tuple[float, float] = (0.5, 1.4)  # multiplies every jitter amplitude below
    char_rotation_deg: float = 3.0  # std of the whole-character rotation
    char_shear: float = 0.07  # std of the whole-character shear
    char_scale: tuple[float, float] = (0.88, 1.1)  # independent x / y scale range
    slant: float = 0.08  # std of an extra per-writer italic slant (shear)
    stroke_offset: float = 0.016  # std of the per-stroke translation (box units)
    stroke_rotation_deg: float = 4.0  # std of the per-stroke rotation about its centre
    stroke_scale: float = 0.07  # std of the per-stroke relative scale change
    horizontal_rise_deg: float = 4.0  # mean upward tilt of horizontal strokes
    end_jitter: float = 0.012  # std of over/undershoot at stroke ends (box units)
    wobble: float = 0.008  # std of the smooth along-stroke displacement (box units)
    join_probability: tuple[float, float] = (0.0, 0.35)  # per-writer chance of joining consecutive strokes
    ink: tuple[float, float] = (0.72, 1.0)  # peak ink intensity range (pencil .. pen)
    canvas_width: tuple[float, float] = (0.02, 0.1)  # canvas style: line width range in box units (pen 4-24 px on 256)
    canvas_step: tuple[float, float] = (0.012, 0.045)  # canvas style: distance between pointer samples (box units)
    canvas_sloppiness: tuple[float, float] = (0.4, 1.2)  # canvas style: jitter multiplier (a mouse wobbles too)


def _resample(poly: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along the polyline (keeping both ends)."""
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] < 1e-6:
        return poly[:1].repeat(2, axis=0)
    n = max(2, int(np.ceil(arc[-1] / step)) + 1)
    s = np.linspace(0, arc[-1], n)
    return np.stack([np.interp(s, arc, poly[:, 0]), np.interp(s, arc, poly[:, 1])], axis=1)


def _rotation(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def stroke_kind(stroke_type: str, poly: np.ndarray) -> str:
    """"harai" (sweeping tail), "dot", "hook" or "tome" (pressed stop), from the KanjiVG type
    when known, otherwise from the geometry of the stroke's end."""
    t = stroke_type[:1] if stroke_type else ""
    if t in ("㇒", "㇏", "㇀", "㇋", "㇈", "㇂"):
        return "harai"
    if t == "㇔":
        return "dot"
    if t in ("㇚", "㇙", "㇆", "㇟", "㇁", "㇖", "㇄", "㇃", "㇉", "㇌"):
        return "hook"
    if t:
        return "tome"
    length = np.linalg.norm(np.diff(poly, axis=0), axis=1).sum()
    if length < 0.12:
        return "dot"
    end = poly[-1] - poly[max(0, len(poly) - 4)]
    return "harai" if end[1] > 0 and abs(end[0]) > 0.5 * abs(end[1]) else "tome"


def width_profile(t: np.ndarray, kind: str, brush: float) -> np.ndarray:
    """Relative width along a stroke (t = 0..1 arc length) for a writer with `brush` in [0, 1]."""
    ramp_in = 0.55 + 0.45 * np.clip(t / 0.1, 0, 1) ** 0.5
    if kind == "harai":
        shape = (1.0 + 0.15 * t) * (1.0 - 0.85 * np.clip((t - 0.5) / 0.5, 0, 1) ** 1.5)
    elif kind == "dot":
        shape = 0.45 + 0.75 * t
    elif kind == "hook":
        shape = 1.0 - 0.8 * np.clip((t - 0.82) / 0.18, 0, 1)
    else:
        shape = 1.0 + 0.18 * np.exp(-(((t - 0.92) / 0.07) ** 2))
    ramp_out = 1.0 - 0.3 * np.clip((t - 0.85) / 0.15, 0, 1) ** 2  # pressure released as the pen lifts
    brush_profile = ramp_in * shape * ramp_out
    pen_profile = 0.85 + 0.15 * ramp_in  # a ballpoint barely changes width
    return (1 - brush) * pen_profile + brush * brush_profile


def _sample_style(rng: np.random.Generator, cfg: HandwritingConfig) -> dict[str, float]:
    return {
        "width": rng.uniform(*cfg.width), "brush": rng.uniform(*cfg.brush),
        "sloppy": rng.uniform(*cfg.sloppiness), "slant": rng.normal(0, cfg.slant),
        "join": rng.uniform(*cfg.join_probability), "ink": rng.uniform(*cfg.ink),
    }


def _char_affine(rng: np.random.Generator, cfg: HandwritingConfig, style: dict[str, float]) -> np.ndarray:
    s = style["sloppy"]
    shear = np.array([[1.0, rng.normal(0, cfg.char_shear * s) + style["slant"]], [0.0, 1.0]])
    scale = np.diag(rng.uniform(*cfg.char_scale, size=2))
    return _rotation(rng.normal(0, cfg.char_rotation_deg * s)) @ shear @ scale


def _extend(poly: np.ndarray, start: float, end: float) -> np.ndarray:
    """Lengthen (positive) or shorten (negative) both ends along their tangents."""
    pts = poly.copy()
    for idx, nb, amount in ((0, 1, start), (-1, -2, end)):
        d = pts[idx] - pts[nb]
        n = np.linalg.norm(d)
        if n > 1e-6:
            pts[idx] = pts[idx] + d / n * amount
    return pts


def _jitter_stroke(poly: np.ndarray, rng: np.random.Generator, cfg: HandwritingConfig, s: float,
                   density: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-stroke rotation / scale / offset / end over- and undershoot, applied to the polyline
    as given; plus the (2, 3) wobble parameters (x/y amplitude, phase per harmonic), applied
    after resampling by `_wobble` so the polyline is resampled only once."""
    centre = poly.mean(axis=0)
    direction = poly[-1] - poly[0]
    angle = rng.normal(0, cfg.stroke_rotation_deg * s)
    if abs(direction[0]) > 3 * abs(direction[1]) and direction[0] > 0:  # horizontal: rises to the right
        angle -= abs(rng.normal(cfg.horizontal_rise_deg, 2.0))
    scale = 1 + rng.normal(0, cfg.stroke_scale * s)
    pts = (poly - centre) @ (_rotation(angle) * scale).T + centre + rng.normal(0, cfg.stroke_offset * s * density, 2)
    pts = _extend(pts, rng.normal(0, cfg.end_jitter * s), rng.normal(0, cfg.end_jitter * s))
    wobble = np.concatenate([rng.normal(0, cfg.wobble * s, (2, 2)), rng.uniform(0, np.pi, (2, 1))], axis=1)
    return pts, wobble


def _wobble(n: int, params: np.ndarray) -> np.ndarray:
    """Smooth displacement along a stroke: two low harmonics of a half sine, (n, 2)."""
    t = np.linspace(0, 1, n)[:, None]
    return sum(params[k, :2][None] * np.sin(np.pi * (k + 1) * t + params[k, 2]) for k in range(2))


def _draw_stroke(draw: ImageDraw.ImageDraw, pts: np.ndarray, radii: np.ndarray, fill: int) -> None:
    """Quads between consecutive points + discs at the points: a smooth variable-width stroke."""
    d = np.diff(pts, axis=0)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    a, b = pts[:-1], pts[1:]
    na, nb = normal * radii[:-1, None], normal * radii[1:, None]
    quads = np.stack([a + na, b + nb, b - nb, a - na], axis=1).tolist()  # (n-1, 4, 2), corners computed at once
    discs = np.concatenate([pts - radii[:, None], pts + radii[:, None]], axis=1).tolist()
    for quad in quads:
        draw.polygon([tuple(c) for c in quad], fill=fill)
    for box in discs:
        draw.ellipse(box, fill=fill)


def synthesize(paths: list[np.ndarray], rng: np.random.Generator, cfg: HandwritingConfig | None = None,
               types: list[str] | None = None) -> np.ndarray:
    """One handwritten-looking sample of the character whose strokes are `paths` ((n,2) float
    polylines in [0,1]², y down, stroke order). Returns uint8 (size, size) ink intensity."""
    cfg = cfg or HandwritingConfig()
    style = _sample_style(rng, cfg)
    affine = _char_affine(rng, cfg, style)
    canvas = cfg.size * cfg.supersample
    pad = 0.25  # box units of room around [0,1]² for jitter
    to_px = canvas / (1 + 2 * pad)
    img = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(img)
    density = np.clip(np.sqrt(cfg.dense_strokes / max(1, len(paths))), cfg.min_width_factor, 1.0)
    base_r = style["width"] * density * to_px / 2
    prev_end = None
    for k, poly in enumerate(paths):
        kind = stroke_kind(types[k] if types and k < len(types) else "", poly)
        # dense characters are written more carefully: less stroke displacement
        pts, wobble = _jitter_stroke(np.asarray(poly, np.float64), rng, cfg, style["sloppy"], density)
        pts = ((pts - 0.5) @ affine.T + 0.5 + pad) * to_px
        if prev_end is not None and rng.random() < style["join"] and np.linalg.norm(pts[0] - prev_end) < 0.3 * to_px:
            link = _resample(np.stack([prev_end, pts[0]]), max(1.0, base_r))
            _draw_stroke(draw, link, np.full(len(link), max(1.0, 0.3 * base_r)), 255)
        pts = _resample(pts, max(2.0, 0.9 * base_r))  # joints are discs, so ~r spacing is smooth
        pts = pts + _wobble(len(pts), wobble) * to_px
        radii = np.maximum(0.6, base_r * width_profile(np.linspace(0, 1, len(pts)), kind, style["brush"]))
        _draw_stroke(draw, pts, radii, 255)
        prev_end = pts[-1]
    ink = np.asarray(img)
    out = normalize_glyph(ink, cfg.size, cfg.margin, threshold=16)
    return (out.astype(np.float32) * style["ink"]).astype(np.uint8)


def synthesize_canvas(paths: list[np.ndarray], rng: np.random.Generator, cfg: HandwritingConfig | None = None
                      ) -> np.ndarray:
    """One pen-drawn (canvas) sample: uniform width, round caps, straight segments between pointer
    samples, full ink. Returns uint8 (size, size) ink intensity, fitted like every glyph."""
    cfg = cfg or HandwritingConfig()
    style = {"sloppy": rng.uniform(*cfg.canvas_sloppiness), "slant": rng.normal(0, cfg.slant)}
    affine = _char_affine(rng, cfg, style)
    canvas = cfg.size * cfg.supersample
    pad = 0.25
    to_px = canvas / (1 + 2 * pad)
    radius = max(1.0, rng.uniform(*cfg.canvas_width) * to_px / 2)
    step = rng.uniform(*cfg.canvas_step) * to_px
    img = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(img)
    for poly in paths:
        pts, wobble = _jitter_stroke(np.asarray(poly, np.float64), rng, cfg, style["sloppy"])
        pts = ((pts - 0.5) @ affine.T + 0.5 + pad) * to_px
        pointer = _resample(pts, step)
        pointer = pointer + _wobble(len(pointer), wobble) * to_px
        dense = np.concatenate([_resample(pointer[i:i + 2], max(1.0, radius)) for i in range(len(pointer) - 1)])
        _draw_stroke(draw, dense, np.full(len(dense), radius), 255)
    return normalize_glyph(np.asarray(img), cfg.size, cfg.margin, threshold=16)


def sample_rng(seed: int, char: str, sample: int) -> np.random.Generator:
    """The generator for one (seed, character, sample index): order- and worker-independent."""
    return np.random.default_rng([seed, ord(char), sample])


def contact_sheet(chars: str, samples: int = 8, seed: int = 0, cfg: HandwritingConfig | None = None,
                  gap: int = 2) -> np.ndarray:
    """A grid (rows = chars, columns = samples) of synthesised handwriting, dark ink on white."""
    from hieralign.knowledge.strokes import StrokeDatabase

    cfg = cfg or HandwritingConfig()
    db = StrokeDatabase.load()
    cell = cfg.size + gap
    sheet = np.full((len(chars) * cell + gap, samples * cell + gap), 255, np.uint8)
    for r, ch in enumerate(chars):
        for c in range(samples):
            img = synthesize(db.paths(ch), sample_rng(seed, ch, c), cfg, db.types(ch))
            sheet[gap + r * cell: gap + r * cell + cfg.size, gap + c * cell: gap + c * cell + cfg.size] = 255 - img
    return sheet
