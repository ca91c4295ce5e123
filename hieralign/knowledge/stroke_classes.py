"""SD's five stroke classes (GB 13000.1 stroke-order standard) from stroke types or geometry.

1 horizontal ㇐ (rising ㇀ counts as horizontal), 2 vertical ㇑, 3 left-falling ㇒ ㇓,
4 dot / right-falling ㇔ ㇏ ㇝, 5 every turning or hooked stroke (㇕ ㇆ ㇚ ㇟ …).

KanjiVG types carry suffixes (``㇐a``, ``㇕b``) and sometimes two readings (``㇔/㇏``): the
first reading's base symbol decides. Strokes without a usable type (kana, hanzi-writer
medians) are classified geometrically by ``classify_polyline``.
"""

from __future__ import annotations

import numpy as np

from hieralign.knowledge.svgpath import resample

STROKE_CLASS_NAMES = {1: "horizontal", 2: "vertical", 3: "left-falling", 4: "dot/right-falling", 5: "turning"}

# Unicode CJK strokes (U+31C0–U+31E3) and the CJK ideographs KanjiVG sometimes uses as types.
_BASE_CLASS: dict[str, int] = {"㇐": 1, "㇀": 1, "一": 1, "㇑": 2, "丨": 2, "㇒": 3, "㇓": 3, "丿": 3,
                               "㇔": 4, "㇏": 4, "㇝": 4, "丶": 4}
_TURNING = "㇁㇂㇃㇄㇅㇆㇇㇈㇉㇊㇋㇌㇍㇎㇕㇖㇗㇘㇙㇚㇛㇜㇞㇟㇠㇡㇢㇣"


def class_of_type(stroke_type: str | None) -> int | None:
    """Map a KanjiVG `kvg:type` to 1..5, or None when the type is missing or unknown."""
    if not stroke_type:
        return None
    base = stroke_type.split("/")[0].strip()[:1]
    if base in _BASE_CLASS:
        return _BASE_CLASS[base]
    if base and base in _TURNING:
        return 5
    return None


def _turning_angle(pts: np.ndarray) -> float:
    """Largest change of direction (degrees) between chords spanning ~1/6 of the stroke each."""
    step = max(1, len(pts) // 6)
    vecs = pts[step:] - pts[:-step]
    norms = np.linalg.norm(vecs, axis=1)
    vecs = vecs[norms > 1e-9] / norms[norms > 1e-9, None]
    if len(vecs) < step + 1:
        return 0.0
    cos = np.clip(np.sum(vecs[step:] * vecs[:-step], axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)).max(initial=0.0))


def classify_polyline(poly: np.ndarray, turn_threshold: float = 65.0) -> int:
    """Geometric 5-class guess for one stroke, points in writing order, x right and y down.

    A stroke whose direction turns by more than `turn_threshold` degrees is class 5; otherwise
    the chord direction decides (angles measured with y down, 0° = rightwards).
    """
    pts = resample(np.asarray(poly, dtype=np.float64), 48)
    if _turning_angle(pts) > turn_threshold:
        return 5
    dx, dy = pts[-1] - pts[0]
    length = float(np.hypot(dx, dy))
    if length < 1e-9:
        return 4  # a point-like stroke is a dot
    angle = float(np.degrees(np.arctan2(dy, dx)))  # (-180, 180], +90 = straight down
    if -75.0 <= angle <= 25.0:
        return 1  # rightwards or rising to the right
    if 25.0 < angle < 72.0:
        return 4  # down-right: dot or right-falling
    if 72.0 <= angle <= 102.0:
        return _vertical_or_falling(pts)
    return 3  # down-left, or leftwards: left-falling


def _vertical_or_falling(pts: np.ndarray) -> int:
    """A mostly vertical stroke whose last third sweeps left is a vertical-left-falling ㇓."""
    tail = pts[-len(pts) // 3:]
    tdx, tdy = tail[-1] - tail[0]
    if tdx < 0 and abs(tdx) > 0.6 * abs(tdy):
        return 3
    return 2
