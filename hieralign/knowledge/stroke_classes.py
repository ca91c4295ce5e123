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


def classify_polyline(poly: np.ndarray, turn_threshold: float = 60.0) -> int:
    """Geometric 5-class guess for one stroke, points in writing order, x right and y down,
    in the unit box (a character is 1 × 1).

    Rules (thresholds fitted on KanjiVG's typed strokes, see ``tests/knowledge``):
    a direction change above `turn_threshold` degrees → 5; else by chord angle (0° = right,
    +90° = down): −75°..12° → 1 (KanjiVG horizontals always rise slightly; ㇀ rises steeply),
    12°..72° → 4, 72°..102° → 2 unless a long stroke's tail sweeps left (㇓ → 3), otherwise 3.
    Short straight strokes (< 0.18 long, < 8° of turning) pointing down are dots (4).
    """
    pts = resample(np.asarray(poly, dtype=np.float64), 48)
    turn = _turning_angle(pts)
    if turn > turn_threshold:
        return 5
    dx, dy = pts[-1] - pts[0]
    length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
    if length < 1e-9:
        return 4  # a point-like stroke is a dot
    angle = float(np.degrees(np.arctan2(dy, dx)))  # (-180, 180], +90 = straight down
    if -75.0 <= angle <= 12.0:
        return 1  # rightwards or rising to the right
    if length < 0.18 and turn < 8.0 and angle < 118.0:
        return 4  # short, straight and pointing down: a dot, whatever its slant
    if angle < 72.0:
        return 4  # down-right: dot or right-falling
    if angle <= 102.0:
        return 3 if length > 0.3 and _tail_angle(pts) > 104.0 else 2
    return 3  # down-left, or leftwards: left-falling


def _tail_angle(pts: np.ndarray) -> float:
    """Direction (degrees, y down) of the last third of the stroke; > 90 means it sweeps left."""
    dx, dy = pts[-1] - pts[2 * len(pts) // 3]
    return float(np.degrees(np.arctan2(dy, dx)))
