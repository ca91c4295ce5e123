r"""`hieralign data import`: convert real handwriting data to a glyph store.

  hieralign data import --format etl9g /data/ETL9G --out runs/data/etl9g-real-train \
      --split etl9g-zs --seen 2036 --part seen
  hieralign data import --format casia /data/HWDB1.1/*.gnt --out runs/data/casia --charset gb2312 --split gb-zs
  hieralign data import --format seed-npz dataset/ --out runs/data/seed

Images are cleaned (faint background noise removed, ink stretched to 0..255) and framed exactly
like rendered glyphs. Characters outside the selection are skipped and counted. --part seen
(training data) also drops reserved JIS level-2 characters; bad records stop the import with
the file and byte offset unless --skip-bad.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from hieralign.errors import EmptyDatasetError, UserError

if TYPE_CHECKING:  # the readers pull in numpy: imported where used, so `--help` stays instant
    from hieralign.data.readers.base import GlyphRecord, ReadReport

FORMATS = ("etl9g", "etl8g", "casia", "seed-npz")
DEFAULT_CHARSET = {"etl9g": "etl9g", "etl8g": "etl9g", "casia": "gb2312", "seed-npz": "etl9g"}
DEFAULT_SPLIT = {"etl9g": "etl9g-zs", "etl8g": "etl9g-zs", "casia": "gb-zs", "seed-npz": "etl9g-zs"}


def iter_records(fmt: str, paths: list[str], skip_bad: bool, report: ReadReport) -> Iterator[GlyphRecord]:
    """All records of all inputs (files or directories) in a format."""
    from hieralign.data.readers.base import GlyphRecord
    from hieralign.data.readers.casia import gnt_files, read_gnt
    from hieralign.data.readers.etl import etl_files, read_etl_chunks
    from hieralign.data.readers.seed_npz import read_seed_dir

    for raw in paths:
        if fmt in ("etl9g", "etl8g"):
            for path in etl_files(raw, fmt):
                check_format(path, fmt)
                for images, chars, offsets in read_etl_chunks(path, fmt, skip_bad=skip_bad, report=report):
                    for image, ch, off in zip(images, chars, offsets.tolist()):
                        yield GlyphRecord(image, ch, path.name, off)
        elif fmt == "casia":
            for path in gnt_files(raw):
                check_format(path, fmt)
                yield from read_gnt(path, skip_bad, report)
        elif fmt == "seed-npz":
            yield from read_seed_dir(raw, skip_bad, report)
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def check_format(path: Path, fmt: str) -> None:
    """Refuse a file whose layout says it is another format than --format (one line, exit 2)."""
    from hieralign.data.readers.casia import looks_like_gnt
    from hieralign.data.readers.etl import detect_etl_layout, looks_like_etl

    if path.stat().st_size == 0:
        raise UserError(f"{path}: empty file (0 bytes); re-download or re-copy it")
    if fmt in ("etl9g", "etl8g"):
        if looks_like_gnt(path) and not looks_like_etl(path):
            raise UserError(f"{path}: looks like a CASIA .gnt file, not {fmt.upper()}; pass --format casia")
        detect_etl_layout(path, fmt)
    elif fmt == "casia" and looks_like_etl(path) and not looks_like_gnt(path):
        raise UserError(f"{path}: looks like an ETL file (8,199-byte records), not CASIA .gnt; pass --format etl9g "
                        "or etl8g")


def _estimate(fmt: str, paths: list[str]) -> int | None:
    """Record count for the progress bar (exact for ETL, unknown otherwise)."""
    if fmt not in ("etl9g", "etl8g"):
        return None
    from hieralign.data.readers.etl import etl_files

    return sum(p.stat().st_size // 8199 for raw in paths for p in etl_files(raw, fmt))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign data import", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="data files or directories")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="output store directory")
    p.add_argument("--charset", default=None, help="store label space (default: etl9g, gb2312 for casia)")
    p.add_argument("--split", default=None, help="protocol for --part (default: etl9g-zs / gb-zs; 'none' = no split)")
    p.add_argument("--seen", type=int, default=None, help="m of the protocol (default: its largest)")
    p.add_argument("--part", choices=("seen", "unseen", "all"), default="all",
                   help="which classes to keep; 'seen' makes a training store (reserved chars dropped)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--margin", type=int, default=4)
    p.add_argument("--noise-floor", type=int, default=32, help="ink values <= this are background noise")
    p.add_argument("--skip-bad", action="store_true", help="skip corrupt records (and report them) instead of failing")
    p.add_argument("--limit", type=int, default=None, help="stop after N imported images")
    p.add_argument("--overwrite", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before the imports: `--help` needs none of them
    import numpy as np

    from hieralign.data.readers.base import ReadReport, prepare_scan
    from hieralign.data.render import normalize_glyph
    from hieralign.data.selection import select_chars
    from hieralign.data.store import GlyphStoreWriter
    from hieralign.utils.progress import progress

    started = time.time()
    split = args.split or DEFAULT_SPLIT[args.format]
    role = "train" if args.part == "seen" else "eval"
    sel = select_chars(args.charset or DEFAULT_CHARSET[args.format], split, args.seen, args.part, role)
    keep = set(sel.chars)
    report, skipped_chars = ReadReport(), Counter()
    meta = {"builder": "hieralign data import", "build_args": vars(args), **sel.meta(), "input_format": args.format,
            "inputs": [str(Path(p).resolve()) for p in args.paths]}
    bar = progress(total=_estimate(args.format, args.paths), desc=f"importing {args.format}", unit="rec")
    with GlyphStoreWriter(args.out, sel.charset, args.size, 4096, args.overwrite, meta) as writer:
        batch: list = []
        labels: list[str] = []
        sources: list[str] = []
        for rec in iter_records(args.format, args.paths, args.skip_bad, report):
            bar.update(1)
            if rec.char not in keep:
                skipped_chars[rec.char] += 1
                continue
            # bbox threshold above the floor: isolated faint specks must not stretch the crop
            img = normalize_glyph(prepare_scan(rec.image, args.noise_floor), args.size, args.margin,
                                  threshold=2 * args.noise_floor)
            batch.append(img)
            labels.append(rec.char)
            sources.append(rec.source)
            if len(batch) >= 1024:
                writer.append(np.stack(batch), labels, args.format, sources)
                batch, labels, sources = [], [], []
            if args.limit and writer.count + len(batch) >= args.limit:
                break
        if batch:
            writer.append(np.stack(batch), labels, args.format, sources)
        writer.extra_meta.update({"bad_records": len(report.skipped), "skipped_outside_selection": sum(skipped_chars.values())})
        if writer.count == 0:  # leaving the block by an exception aborts the writer: no store is left behind
            raise EmptyDatasetError(
                f"nothing imported from {', '.join(args.paths)}: {len(report.skipped)} bad record(s), "
                f"{sum(skipped_chars.values())} outside the selection ({sel.part} of {split}); "
                + (report.summary(3) if report.skipped else "check --format, --charset and --part"))
        store = writer.close()
    bar.close()
    print(f"wrote {store.path}: {len(store):,} images of {store.meta['num_classes_present']:,} classes "
          f"in {time.time() - started:.1f} s ({args.format}, part {sel.part})")
    print(f"  {sum(skipped_chars.values()):,} records of {len(skipped_chars):,} characters outside the selection skipped")
    for note in sel.notes:
        print(f"  note: {note}")
    print("  " + report.summary())
    return 0
