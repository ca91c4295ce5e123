"""Stroke order, stroke types and stroke paths per character.

Sources, in the order they are tried for a character:

1. **KanjiVG** (PyPI `kanjivg`, CC BY-SA 3.0; installs ``site-packages/kanji/XXXXX.svg``):
   ordered cubic-Bézier strokes with ``kvg:type``. Only the base files (5 hex digits) are
   read; ``-Kaisho``/``-HzFst`` variants are skipped. Covers Jōyō, JIS level 1 and kana.
2. **hanzi-writer-data** (npm, optional, never required): stroke medians in a 1024 box (y up,
   baseline offset 900), used when a ``node_modules/hanzi-writer-data`` directory is found
   (``$HANZI_WRITER_DATA``, ``./node_modules``, ``~/node_modules``, ``/usr/lib/node_modules``).
3. **IDS composition** (classes only, no paths): the concatenated stroke-class sequences of
   the character's IDS components (one level, recursing where a component itself lacks
   data). Order inside enclosures (⿴ 国) is approximate: outer component first.

Paths are float32 (n, 2) polylines in [0, 1]² (x right, y down). Classes are SD's five
(``stroke_classes``); strokes with no usable type are classified geometrically. Parsed
KanjiVG data is cached under ``$HIERALIGN_CACHE`` (default ``~/.cache/hieralign``) as NPZ,
keyed by package version, so later loads take well under a second.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from hieralign.knowledge.stroke_classes import class_of_type, classify_polyline
from hieralign.knowledge.strokes_sources import find_hanzi_writer_dir, read_hanzi_writer, read_kanjivg

CACHE_FORMAT = 1  # bump when the cached layout or the sampling changes
SAMPLES_PER_CURVE = 8  # points sampled per Bézier segment


def cache_dir() -> Path:
    return Path(os.environ.get("HIERALIGN_CACHE") or Path.home() / ".cache" / "hieralign")


@dataclass
class StrokeDatabase:
    strokes: dict[str, list[tuple[str, np.ndarray]]]  # char -> [(kvg type or "", (n,2) path)], written order
    sources: dict[str, str] = field(default_factory=dict)  # char -> "kanjivg" | "hanzi-writer"
    _derived: dict = field(default_factory=dict, repr=False)  # (char, region) -> IDS-derived classes

    @classmethod
    def load(cls, use_cache: bool = True, hanzi_writer_dir: str | Path | None = None) -> StrokeDatabase:
        """KanjiVG (+ hanzi-writer-data when found). Cached in memory and on disk."""
        hw = Path(hanzi_writer_dir) if hanzi_writer_dir else find_hanzi_writer_dir()
        return _load(use_cache, str(hw) if hw else "")

    def has(self, ch: str) -> bool:
        """True when stroke paths are known (KanjiVG or hanzi-writer)."""
        return ch in self.strokes

    def source(self, ch: str) -> str | None:
        return self.sources.get(ch)

    def types(self, ch: str) -> list[str]:
        """KanjiVG stroke types in stroke order ("" where a stroke has none); [] if unknown."""
        return [t for t, _ in self.strokes.get(ch, [])]

    def paths(self, ch: str) -> list[np.ndarray]:
        """Stroke polylines (float32, [0,1]², y down) in stroke order."""
        if ch not in self.strokes:
            raise KeyError(f"no stroke paths for {ch!r} (U+{ord(ch):04X}); check .has(ch) first")
        return [p for _, p in self.strokes[ch]]

    def classes(self, ch: str, region: str = "J") -> list[int]:
        """SD 5-class stroke sequence; [] when neither strokes nor an IDS derivation exist."""
        if ch in self.strokes:
            return [class_of_type(t) or classify_polyline(p) for t, p in self.strokes[ch]]
        return self.derived_classes(ch, region) or []

    def has_sequence(self, ch: str, region: str = "J") -> bool:
        return bool(self.classes(ch, region))

    def stroke_count(self, ch: str, region: str = "J") -> int:
        return len(self.classes(ch, region))

    def derived_classes(self, ch: str, region: str = "J") -> list[int] | None:
        """Classes from IDS components (source 3 in the module docstring), or None."""
        key = (ch, region)
        if key not in self._derived:
            self._derived[key] = self._derive(ch, region, frozenset())
        return self._derived[key]

    def _derive(self, ch: str, region: str, ancestors: frozenset[str]) -> list[int] | None:
        from hieralign.knowledge.ids import IDSDatabase

        tree = IDSDatabase.load().raw_tree(ch, region)
        if tree.is_leaf or ch in ancestors:
            return None
        out: list[int] = []
        for comp in tree.leaves():
            if comp in self.strokes:
                out.extend(self.classes(comp))
                continue
            sub = self._derive(comp, region, ancestors | {ch})
            if not sub:
                return None
            out.extend(sub)
        return out


@lru_cache(maxsize=4)
def _load(use_cache: bool, hanzi_writer_dir: str) -> StrokeDatabase:
    strokes = _kanjivg_cached(use_cache)
    sources = dict.fromkeys(strokes, "kanjivg")
    if hanzi_writer_dir:
        for ch, polys in read_hanzi_writer(Path(hanzi_writer_dir), skip=set(strokes)).items():
            strokes[ch] = [("", p) for p in polys]
            sources[ch] = "hanzi-writer"
    return StrokeDatabase(strokes=strokes, sources=sources)


def _kanjivg_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kanjivg")
    except PackageNotFoundError as exc:
        raise ModuleNotFoundError("stroke data needs the `kanjivg` package: pip install 'hieralign[data]'") from exc


def _kanjivg_cached(use_cache: bool) -> dict[str, list[tuple[str, np.ndarray]]]:
    path = cache_dir() / f"kanjivg-{re.sub(r'[^0-9A-Za-z.]', '_', _kanjivg_version())}-f{CACHE_FORMAT}.npz"
    if use_cache and path.is_file():
        try:
            return _read_npz(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    strokes = read_kanjivg(SAMPLES_PER_CURVE)
    if use_cache:
        try:
            _write_npz(path, strokes)
        except OSError:
            pass  # a read-only home still works, just slower
    return strokes


def _write_npz(path: Path, strokes: dict[str, list[tuple[str, np.ndarray]]]) -> None:
    from hieralign.utils.io import atomic_save

    chars = list(strokes)
    per_char = np.array([len(strokes[c]) for c in chars], dtype=np.int32)
    flat = [s for c in chars for s in strokes[c]]
    lengths = np.array([len(p) for _, p in flat], dtype=np.int32)
    points = np.concatenate([p for _, p in flat]).astype(np.float32) if flat else np.zeros((0, 2), np.float32)
    meta = json.dumps({"chars": "".join(chars), "types": [t for t, _ in flat]}, ensure_ascii=False)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, per_char=per_char, lengths=lengths, points=points, meta=np.array(meta))

    atomic_save(path, write)


def _read_npz(path: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        per_char, lengths, points = z["per_char"], z["lengths"], z["points"]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    types, out, k = meta["types"], {}, 0
    for ch, n in zip(meta["chars"], per_char.tolist()):
        out[ch] = [(types[k + j], points[starts[k + j]:starts[k + j + 1]]) for j in range(n)]
        k += n
    return out
