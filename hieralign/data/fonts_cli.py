"""`hieralign data fonts`: installed font families, their DESIGN §4 role, and charset coverage.

  hieralign data fonts                      # every CJK-capable family, coverage of etl9g
  hieralign data fonts --charset gb2312 --all --format json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from hieralign.data.fonts import DEFAULT_TRAIN_FAMILIES, FontFace, coverage, discover_fonts, discover_fonts_in
from hieralign.utils.progress import progress


def family_rows(charset_name: str, show_all: bool, extra_dirs: list[str], system: bool = True) -> list[dict]:
    from hieralign.knowledge.charsets import load_charset_arg

    chars = load_charset_arg(charset_name)
    by_family: dict[str, list[FontFace]] = defaultdict(list)
    faces = discover_fonts(extra_dirs) if system else [f for d in extra_dirs for f in discover_fonts_in(d)]
    for face in faces:
        by_family[face.canonical_family].append(face)
    rows = []
    for family, faces in progress(sorted(by_family.items()), desc="checking outlines", unit="family"):
        covs = [coverage(f, chars) for f in faces]
        best = max(covs)
        if best == 0 and not show_all:
            continue
        rows.append({
            "family": family, "role": faces[0].role, "default_train": family in DEFAULT_TRAIN_FAMILIES,
            "coverage": round(best, 4), "faces": [f"{f.family} {f.style_name}" for f in faces],
            "files": sorted({f.path for f in faces}),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hieralign data fonts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--charset", default="etl9g", help="charset whose outline coverage is shown")
    p.add_argument("--all", action="store_true", help="also list families that draw none of the charset")
    p.add_argument("--font-dir", action="append", default=[], help="extra directory to scan (repeatable)")
    p.add_argument("--no-system-fonts", action="store_true", help="only the --font-dir directories")
    p.add_argument("--format", choices=("table", "json"), default="table")
    args = p.parse_args(argv)
    rows = family_rows(args.charset, args.all, args.font_dir, system=not args.no_system_fonts)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max([len(r["family"]) for r in rows] + [6])
    print(f"{'family'.ljust(width)}  {'role':<10} default  {args.charset + ' cov.':>10}  faces")
    for r in rows:
        star = "yes" if r["default_train"] else ""
        print(f"{r['family'].ljust(width)}  {r['role']:<10} {star:<7}  {r['coverage']:>10.2%}  {len(r['faces'])}")
    counts: defaultdict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["role"]] += 1
    print(f"\n{len(rows)} families: " + ", ".join(f"{n} {role}" for role, n in sorted(counts.items())))
    print("coverage counts only glyphs with real outlines (empty glyphs in the cmap do not count).")
    return 0
