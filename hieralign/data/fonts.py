"""Font discovery, the family registry (DESIGN §4 font split) and per-character outline coverage.

A face "covers" a character only if the glyph it maps to has real outlines: several CJK faces map
characters to empty glyphs, which would silently render blank training images. Coverage is
computed once per face for every code point in its cmap and cached on disk, so checking any
charset afterwards is a set lookup.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

ROLE_TRAIN = "train"
ROLE_TEST_ONLY = "test-only"
ROLE_EXCLUDED = "excluded"


@dataclass(frozen=True)
class FontFace:
    """One face inside a font file (a .ttc holds several, told apart by `index`)."""

    path: str  # absolute path of the font file
    index: int  # face index inside a collection (0 for .ttf/.otf)
    family: str  # family name as the font declares it (e.g. "IPAPGothic")
    style_name: str  # style as declared (e.g. "Regular", "Bold")

    @property
    def canonical_family(self) -> str:
        return family_info(self.family)[0]

    @property
    def role(self) -> str:
        return family_info(self.family)[1]

    @property
    def name(self) -> str:
        """Stable human-readable id: "<canonical family>/<style>"."""
        return f"{self.canonical_family}/{self.style_name}"


# (regex on the declared family name, canonical family, role). First match wins; families that
# match nothing keep their own name and may be used for training (DESIGN §4: "all other usable
# families"). Proportional/mono/ex variants share glyph designs with their base family, so they
# map to one canonical family and `training_faces` keeps one face per (family, style).
FAMILY_RULES: list[tuple[str, str, str]] = [
    # -- test-only (DESIGN §4) --
    (r"^klee one", "Klee One", ROLE_TEST_ONLY),
    (r"^kouzanbrushfontgyou?syo|^kouzan.*gy[oō]u?sho", "Kouzan Gyosho", ROLE_TEST_ONLY),
    (r"^aoyagi ?soseki", "Aoyagi Soseki", ROLE_TEST_ONLY),
    (r"^kiloji", "kiloji", ROLE_TEST_ONLY),
    (r"^biz ?ud ?p?mincho", "BIZ UD Mincho", ROLE_TEST_ONLY),
    (r"^dejima", "Dejima Mincho", ROLE_TEST_ONLY),
    (r"^lxgw ?wenkai", "LXGW WenKai", ROLE_TEST_ONLY),
    (r"^(wenquanyi|wqy) ?micro ?hei", "WQY Micro Hei", ROLE_TEST_ONLY),
    (r"^droid sans fallback", "Droid Sans Fallback", ROLE_TEST_ONLY),
    # -- crash FreeType inside Pillow (DESIGN §3) --
    (r"^ume gothic s5$", "Ume Gothic S5", ROLE_EXCLUDED),
    (r"^ume p gothic s4$", "Ume P Gothic S4", ROLE_EXCLUDED),
    (r"^ume p gothic s5$", "Ume P Gothic S5", ROLE_EXCLUDED),
    # -- training families: merge proportional / mono / extended variants --
    (r"^ipap?gothic$", "IPA Gothic", ROLE_TRAIN),
    (r"^ipap?mincho$", "IPA Mincho", ROLE_TRAIN),
    (r"^ipaexgothic$", "IPAex Gothic", ROLE_TRAIN),
    (r"^ipaexmincho$", "IPAex Mincho", ROLE_TRAIN),
    (r"^vl p?gothic$", "VL Gothic", ROLE_TRAIN),
    (r"^biz ?ud ?p?gothic", "BIZ UD Gothic", ROLE_TRAIN),
    (r"^takaop?gothic$", "Takao Gothic", ROLE_TRAIN),
    (r"^takaop?mincho$", "Takao Mincho", ROLE_TRAIN),
    (r"^konatu", "Konatu", ROLE_TRAIN),
    (r"^setofont", "Seto", ROLE_TRAIN),
    (r"^kouzanbrushfontsou?syo", "Kouzan Sosho", ROLE_TRAIN),
    (r"^kouzanbrushfont$", "Kouzan Kaisho", ROLE_TRAIN),
    (r"^aoyagi ?kouzan", "Aoyagi Kouzan T", ROLE_TRAIN),
    (r"^motoyalcedar", "Motoya L Cedar", ROLE_TRAIN),
    (r"^motoyalmaru", "Motoya L Maru", ROLE_TRAIN),
    (r"^noto sans cjk", "Noto Sans CJK", ROLE_TRAIN),
    (r"^noto serif cjk", "Noto Serif CJK", ROLE_TRAIN),
]

# Default training families: small Debian packages (apt-packages.txt), distinct designs
# (gothic, mincho, rounded, brush, handwriting-like), each >= 99 % of etl9g with real outlines.
DEFAULT_TRAIN_FAMILIES: tuple[str, ...] = (
    "IPA Gothic", "IPA Mincho", "VL Gothic", "Sawarabi Gothic", "Sawarabi Mincho",
    "Motoya L Cedar", "Motoya L Maru", "Aoyagi Kouzan T", "Seto", "Konatu",
)


@lru_cache(maxsize=4096)
def family_info(declared_family: str) -> tuple[str, str]:
    """(canonical family, role) for a declared family name."""
    key = declared_family.strip().lower()
    for pattern, canonical, role in FAMILY_RULES:
        if re.search(pattern, key):
            return canonical, role
    return declared_family.strip(), ROLE_TRAIN


def _fc_list() -> list[FontFace] | None:
    if shutil.which("fc-list") is None:
        return None
    fmt = "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"
    try:
        out = subprocess.run(["fc-list", "--format", fmt], capture_output=True, text=True, timeout=60, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    faces = []
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0].lower().endswith(FONT_SUFFIXES):
            faces.append(FontFace(parts[0], int(parts[1] or 0), parts[2], parts[3] or "Regular"))
    return faces


def _scan_dir(root: Path) -> list[FontFace]:
    """Read family/style names with fontTools (used when fc-list is missing, and for extra dirs)."""
    from fontTools.ttLib import TTCollection, TTFont

    faces = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES):
        try:
            fonts = TTCollection(str(path), lazy=True).fonts if path.suffix.lower() in (".ttc", ".otc") \
                else [TTFont(str(path), lazy=True)]
        except Exception:  # unreadable font files are skipped, not fatal for discovery
            continue
        for index, font in enumerate(fonts):
            names = font["name"]
            family = names.getBestFamilyName() or path.stem
            style = names.getBestSubFamilyName() or "Regular"
            faces.append(FontFace(str(path), index, family, style))
    return faces


def discover_fonts(extra_dirs: Sequence[str | os.PathLike] = (), use_fc_list: bool = True) -> list[FontFace]:
    """All faces on this machine (fc-list, else the standard font dirs) plus `extra_dirs` and
    $HIERALIGN_FONT_DIRS (':'-separated). Symlinked duplicates are dropped; sorted by name."""
    faces = _fc_list() if use_fc_list else None
    if faces is None:
        faces = [f for d in FONT_DIRS if Path(d).expanduser().is_dir() for f in _scan_dir(Path(d).expanduser())]
    env_dirs = [d for d in os.environ.get("HIERALIGN_FONT_DIRS", "").split(":") if d]
    for d in [*extra_dirs, *env_dirs]:
        faces += _scan_dir(Path(d))
    unique: dict[tuple[str, int], FontFace] = {}
    for face in faces:
        real = os.path.realpath(face.path)
        unique.setdefault((real, face.index), FontFace(real, face.index, face.family, face.style_name))
    return sorted(unique.values(), key=lambda f: (f.canonical_family.lower(), f.family, f.style_name, f.path))


def discover_fonts_in(directory: str | os.PathLike) -> list[FontFace]:
    """Faces in one directory tree only (no system fonts)."""
    return _scan_dir(Path(directory))


def _cache_dir() -> Path:
    if os.environ.get("HIERALIGN_FONT_CACHE"):
        return Path(os.environ["HIERALIGN_FONT_CACHE"])
    root = os.environ.get("HIERALIGN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "hieralign")
    return Path(root) / "fontcov"


def _face_key(face: FontFace) -> str:
    st = os.stat(face.path)
    raw = f"v2|{os.path.realpath(face.path)}|{face.index}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _outlined_codepoints(face: FontFace) -> list[int]:
    """Code points whose glyph has real outlines, read from the font's tables without drawing.

    TrueType: a glyph's `glyf` record is empty (zero length in `loca`) or starts with its contour
    count (0 = no outline; -1 = composite, drawn from components). CFF: an empty glyph's
    charstring has no drawing operator, only a width and `endchar`; tokenising it is ~100x
    faster than running it through fontTools' pure-Python pen (the old path took minutes per
    CJK face). Anything else falls back to drawing with a bounds pen.
    """
    import logging

    from fontTools.ttLib import TTFont

    # Many CJK fonts have harmless header quirks that fontTools logs as warnings for every face.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    cmap = font.getBestCmap() or {}
    if "glyf" in font and "loca" in font:
        has_ink = _glyf_ink(font)
    elif "CFF " in font:
        has_ink = _cff_ink(font)
    else:
        has_ink = _pen_ink(font)
    ink: dict[str, bool] = {}
    out = []
    for cp, name in cmap.items():
        if name not in ink:
            try:
                ink[name] = has_ink(name)
            except Exception:  # a broken glyph counts as missing
                ink[name] = False
        if ink[name]:
            out.append(cp)
    return sorted(out)


def _glyf_ink(font):
    raw = font.reader["glyf"]  # undecoded table bytes
    offsets = font["loca"].locations
    glyph_id = font.getReverseGlyphMap()

    def has_ink(name: str) -> bool:
        gid = glyph_id[name]
        start, stop = offsets[gid], offsets[gid + 1]
        return stop - start >= 2 and int.from_bytes(raw[start:start + 2], "big", signed=True) != 0
    return has_ink


HINT_OPERATORS = frozenset({"endchar", "hstem", "vstem", "hstemhm", "vstemhm", "hintmask", "cntrmask"})


def _cff_ink(font):
    cff = font["CFF "].cff
    charstrings = cff[cff.fontNames[0]].CharStrings

    def has_ink(name: str) -> bool:
        cs = charstrings[name]
        cs.decompile()  # tokenise only; subroutine calls count as ink
        return any(isinstance(tok, str) and tok not in HINT_OPERATORS for tok in cs.program)
    return has_ink


def _pen_ink(font):
    from fontTools.pens.boundsPen import ControlBoundsPen

    glyphset = font.getGlyphSet()

    def has_ink(name: str) -> bool:
        pen = ControlBoundsPen(glyphset)
        glyphset[name].draw(pen)
        return pen.bounds is not None
    return has_ink


def warm_coverage(faces: Sequence[FontFace]) -> None:
    """Compute (and cache on disk) the coverage of the faces not cached yet, with a progress bar
    when there is more than one: a first run on a machine with hundreds of faces shows progress."""
    todo = [f for f in faces if not (_cache_dir() / f"{_face_key(f)}.json").is_file()]
    if len(todo) <= 1:
        return
    from hieralign.utils.progress import progress

    for face in progress(todo, desc="font coverage (first run, cached after)", unit="face"):
        outlined_chars(face)


def _to_ranges(cps: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


@lru_cache(maxsize=512)
def outlined_chars(face: FontFace) -> frozenset[str]:
    """Characters this face draws with real outlines (cached on disk per font file version)."""
    path = _cache_dir() / f"{_face_key(face)}.json"
    if path.is_file():
        try:
            ranges = json.loads(path.read_text())["ranges"]
            return frozenset(chr(c) for a, b in ranges for c in range(a, b + 1))
        except (ValueError, KeyError):
            pass  # corrupt cache entry: recompute below
    cps = _outlined_codepoints(face)
    from hieralign.utils.io import atomic_write_json

    try:
        atomic_write_json(path, {"face": face.name, "path": face.path, "index": face.index, "ranges": _to_ranges(cps)})
    except OSError:
        pass  # read-only home: coverage still works, just not cached
    return frozenset(chr(c) for c in cps)


def coverage(face: FontFace, chars: Iterable[str]) -> float:
    """Fraction of `chars` drawn with real outlines by `face`."""
    chars = list(chars)
    have = outlined_chars(face)
    return sum(c in have for c in chars) / max(1, len(chars))


def training_faces(chars: Sequence[str], min_coverage: float = 0.95, families: Sequence[str] | None = None,
                   role: str = "train", faces: Sequence[FontFace] | None = None) -> list[FontFace]:
    """Faces to render `chars` with: one per (canonical family, style, kanji outline design), so
    re-spaced copies (IPAPGothic, VL PGothic) are dropped and real variants (kiloji B/D) kept.

    role="train" refuses test-only families (DESIGN §4 font split); role="eval" accepts them and,
    without `families`, returns only test-only families. Excluded (crash-prone) faces are never
    returned. `families` are canonical or declared names (case-insensitive)."""
    if role not in ("train", "eval"):
        raise ValueError(f"role must be 'train' or 'eval', not {role!r}")
    faces = list(discover_fonts() if faces is None else faces)
    wanted = {family_info(f)[0].lower() for f in families} if families else None
    if wanted and role == "train":
        bad = sorted({family_info(f)[0] for f in families if family_info(f)[1] == ROLE_TEST_ONLY})
        if bad:
            raise ValueError(f"test-only font families cannot be used for training: {', '.join(bad)} "
                             "(DESIGN §4); use role='eval' (--role eval) to render evaluation data")
    groups: dict[tuple[str, str], list[tuple[float, FontFace]]] = {}
    needed = [f for f in faces if _face_wanted(f, role, wanted)]  # coverage only for faces this step may use
    warm_coverage(needed)
    for face in needed:
        cov = coverage(face, chars)
        if cov >= min_coverage:
            groups.setdefault((face.canonical_family, face.style_name.lower()), []).append((cov, face))
    chosen = []
    for key in sorted(groups):
        kept: dict[str, FontFace] = {}
        # best coverage first, then the shortest declared name (IPAGothic before IPAPGothic)
        for _, face in sorted(groups[key], key=lambda cf: (-cf[0], len(cf[1].family), cf[1].family)):
            kept.setdefault(outline_signature(face), face)
        chosen += list(kept.values())
    return chosen


def _face_wanted(face: FontFace, role: str, wanted: set[str] | None) -> bool:
    if face.role == ROLE_EXCLUDED or (role == "train" and face.role == ROLE_TEST_ONLY):
        return False
    if wanted is not None and face.canonical_family.lower() not in wanted:
        return False
    return not (wanted is None and role == "eval" and face.role != ROLE_TEST_ONLY)


PROBE_CHARS = "永漢東"  # kanji: proportional faces redraw the kana but share the kanji outlines


@lru_cache(maxsize=512)
def outline_signature(face: FontFace) -> str:
    """Hash of the outlines of a few probe kanji: proportional / mono / "ex" variants of a family
    share them and collapse to one face; real design variants (kiloji B/D, weights) do not.

    Cached on disk beside the coverage cache: parsing the cmap of a 65k-glyph face (Noto CJK,
    IPAmj, Hanazono) costs ~0.5 s, and recognition with reference glyphs asks for every training
    face of the checkpoint on each start."""
    path = _cache_dir() / f"{_face_key(face)}.sig"
    try:
        cached = path.read_text().strip()
        if len(cached) == 16:
            return cached
    except OSError:
        pass  # not cached yet (or unreadable): compute below
    signature = _compute_outline_signature(face)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".sig.{os.getpid()}.tmp")
        tmp.write_text(signature)
        os.replace(tmp, path)
    except OSError:
        pass  # read-only home: still correct, just not cached
    return signature


def _compute_outline_signature(face: FontFace) -> str:
    import logging

    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    digest = hashlib.sha1()
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
        probes = [c for c in PROBE_CHARS if ord(c) in cmap] or sorted(outlined_chars(face))[:3]
        for ch in probes:
            name = cmap[ord(ch)]
            if "glyf" in font:  # read contours directly: some faces have a broken hmtx table
                coords, ends, _ = font["glyf"][name].getCoordinates(font["glyf"])
                digest.update(repr((list(coords), list(ends))).encode())
            else:
                pen = RecordingPen()
                font.getGlyphSet()[name].draw(pen)
                digest.update(repr(pen.value).encode())
    except Exception:  # unreadable outlines: treat the face as its own design
        digest.update(f"{face.path}#{face.index}".encode())
    return digest.hexdigest()[:16]


def source_names(faces: Sequence[FontFace]) -> list[str]:
    """Unique store source names: "<canonical family>/<style>", plus " [<declared family>]" where
    several design variants share that (kiloji, kiloji - B, kiloji - D)."""
    counts: dict[str, int] = {}
    for face in faces:
        counts[face.name] = counts.get(face.name, 0) + 1
    return [f"{f.name} [{f.family}]" if counts[f.name] > 1 else f.name for f in faces]


def default_training_faces(chars: Sequence[str], min_coverage: float = 0.95) -> list[FontFace]:
    """The DEFAULT_TRAIN_FAMILIES that are installed and cover `chars`; falls back to every
    training family when none of the defaults is installed."""
    found = training_faces(chars, min_coverage, families=DEFAULT_TRAIN_FAMILIES)
    return found or training_faces(chars, min_coverage)


# ---------------------------------------------------------------------------------------------
# Tibetan faces (DESIGN §4 "Tibetan test-only faces"). Kept apart from the CJK family rules:
# Tibetan faces are matched by file name (several Monlam files declare odd family names), carry
# a writing style (print = dbu-can, cursive = dbu-med), and are never checked for CJK coverage.
# ---------------------------------------------------------------------------------------------

# (regex on the file stem, lowercased with spaces/'-'/'_' removed; canonical face; style; role).
# First match wins, so the test-only Monlam faces come before any broader Monlam pattern.
TIBETAN_FACE_RULES: list[tuple[str, str, str, str]] = [
    (r"notoseriftibetan", "Noto Serif Tibetan", "print", ROLE_TEST_ONLY),
    (r"monlamunichouk", "Monlam Uni Chouk", "cursive", ROLE_TEST_ONLY),
    (r"monlamunichoukmatik", "Monlam Uni ChoukMatik", "cursive", ROLE_TEST_ONLY),
    (r"monlamunitiktong", "Monlam Uni TikTong", "cursive", ROLE_TEST_ONLY),
    (r"tibetanmachineuni", "Tibetan Machine Uni", "print", ROLE_TRAIN),
    (r"ddcuchen", "DDC Uchen", "print", ROLE_TRAIN),
    (r"jomolhari", "Jomolhari", "print", ROLE_TRAIN),
    (r"monlamuniouchan\d*", "Monlam Uni OuChan", "print", ROLE_TRAIN),
    (r"monlamunisansserif", "Monlam Uni Sans Serif", "print", ROLE_TRAIN),
    (r"monlamunidutsa\d*", "Monlam Uni Dutsa", "cursive", ROLE_TRAIN),
    (r"monlamunipaytsik", "Monlam Uni PayTsik", "cursive", ROLE_TRAIN),
    (r"monlamunitikrang", "Monlam Uni Tikrang", "cursive", ROLE_TRAIN),
    (r"(fonts)?sambhotatsugring", "Sambhota Tsugring", "cursive", ROLE_TRAIN),
    (r"tibetansambhotayigchung", "Sambhota Yigchung", "cursive", ROLE_TRAIN),
]
TIBETAN_FONT_SUFFIXES = (".ttf", ".otf")


@dataclass(frozen=True)
class TibetanFace:
    """One Tibetan font file, its writing style and its protocol role."""

    path: str  # font file
    style: str  # print (dbu-can) | cursive (dbu-med) | whatever --font PATH:STYLE said
    family: str = ""  # canonical face name ("Monlam Uni Chouk"); the file stem when unknown
    role: str = ROLE_TRAIN  # train | test-only (never rendered into a training split)

    @property
    def name(self) -> str:
        return Path(self.path).stem


_WEIGHT_SUFFIX = re.compile(r"(\[.*\]|variablefont.*|(extra|semi)?(bold|light)|regular|medium|thin|black)$")


def _tibetan_key(path: str | os.PathLike) -> str:
    """File stem, lowercased, separators and a trailing weight ("-Regular", "[wght]") removed."""
    return _WEIGHT_SUFFIX.sub("", re.sub(r"[\s_\-]+", "", Path(path).stem.lower()))


def tibetan_face_info(path: str | os.PathLike) -> tuple[str, str, str] | None:
    """(canonical face, style, role) of a known Tibetan font file, else None."""
    key = _tibetan_key(path)
    for pattern, family, style, role in TIBETAN_FACE_RULES:
        if re.fullmatch(pattern, key):
            return family, style, role
    return None


def tibetan_face(path: str | os.PathLike, style: str = "") -> TibetanFace:
    """The registry entry for a font file; unknown files are training faces of `style` (or print).
    An explicit style never changes the role: a test-only file stays test-only."""
    info = tibetan_face_info(path)
    if info is None:
        return TibetanFace(str(path), style or "print", Path(path).stem, ROLE_TRAIN)
    return TibetanFace(str(path), style or info[1], info[0], info[2])


def discover_tibetan_faces(dirs: Sequence[str] = FONT_DIRS, role: str | None = None) -> list[TibetanFace]:
    """Installed Tibetan faces known to the registry (optionally only one role), sorted by path."""
    found: dict[str, TibetanFace] = {}
    for root in dirs:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.suffix.lower() in TIBETAN_FONT_SUFFIXES):
            if tibetan_face_info(path) is not None:
                found.setdefault(os.path.realpath(path), tibetan_face(os.path.realpath(path)))
    faces = sorted(found.values(), key=lambda f: f.path)
    return [f for f in faces if role is None or f.role == role]


def check_tibetan_training_faces(faces: Iterable[TibetanFace | str]) -> None:
    """Raise ValueError if any face is test-only (DESIGN §4): call before rendering or training."""
    bad = sorted({(f if isinstance(f, TibetanFace) else tibetan_face(f)).family for f in faces
                  if (f if isinstance(f, TibetanFace) else tibetan_face(f)).role == ROLE_TEST_ONLY})
    if bad:
        raise ValueError(f"test-only Tibetan faces cannot be used for training: {', '.join(bad)} (DESIGN §4)")
