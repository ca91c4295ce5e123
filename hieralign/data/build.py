r"""`hieralign data build`: render a glyph store from fonts and synthetic handwriting.

  hieralign data build --charset etl9g --split etl9g-zs --seen 2036 --styles printed,handwriting \
      --out runs/data/etl9g-train
  hieralign data build --role eval --part unseen --out runs/data/etl9g-unseen-eval

--role train (default): only the seen part of the split, only training font families, never a
reserved character. --role eval: the requested part, test-only font families by default, and
handwriting drawn with a different seed stream (so no evaluation sample equals a training one).
Work is split into chunks rendered by a process pool; the store is written in chunk order, so
the same arguments give the same store whatever the number of workers.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hieralign.data.fonts import (
    FontFace,
    default_training_faces,
    outlined_chars,
    source_names,
    training_faces,
)
from hieralign.data.handwriting import HandwritingConfig, sample_rng, synthesize, synthesize_canvas
from hieralign.data.render import RenderConfig, render_glyph, render_variant
from hieralign.data.selection import select_chars
from hieralign.data.store import GlyphStoreWriter
from hieralign.utils.progress import progress

STYLES = ("printed", "handwriting", "canvas")  # canvas = pen-drawn (workbench) strokes from KanjiVG
EVAL_SEED_OFFSET = 1_000_003  # eval handwriting uses seed + this: a disjoint random stream
CHUNK = 256  # images per task sent to a worker
CANVAS_SEED_OFFSET = 7_919  # canvas style: its own random stream beside the handwriting one


@dataclass(frozen=True)
class Task:
    style: str  # "printed" | "handwriting" | "canvas"
    chars: tuple[str, ...]  # characters of this chunk
    face: FontFace | None  # printed: the face; handwriting: None
    source: str  # store source name of every image of the chunk
    copies: int  # images per character (per font / handwriting samples)
    first_copy: int  # index of the first copy (handwriting sample index offset)
    seed: int  # base seed of the chunk's random stream


def _render_task(args: tuple[Task, RenderConfig, HandwritingConfig]) -> tuple[np.ndarray, list[str], str]:
    task, rcfg, hcfg = args
    images, labels = [], []
    if task.style == "printed":
        for ch in task.chars:
            for k in range(task.copies):
                rng = sample_rng(task.seed, ch, k)
                images.append(render_glyph(task.face, ch, rcfg) if k == 0 else render_variant(task.face, ch, rcfg, rng))
                labels.append(ch)
        return np.stack(images), labels, task.source
    from hieralign.knowledge.strokes import StrokeDatabase

    db = StrokeDatabase.load()
    # canvas samples draw on their own stream: a canvas and a handwriting sample never share a writer
    seed = task.seed + CANVAS_SEED_OFFSET if task.style == "canvas" else task.seed
    for ch in task.chars:
        paths, types = db.paths(ch), db.types(ch)
        for k in range(task.first_copy, task.first_copy + task.copies):
            rng = sample_rng(seed, ch, k)
            images.append(synthesize_canvas(paths, rng, hcfg) if task.style == "canvas"
                          else synthesize(paths, rng, hcfg, types))
            labels.append(ch)
    return np.stack(images), labels, task.source


def _chunks(chars: list[str], per_char: int) -> list[tuple[str, ...]]:
    step = max(1, CHUNK // max(1, per_char))
    return [tuple(chars[i:i + step]) for i in range(0, len(chars), step)]


def plan_tasks(chars: list[str], styles: list[str], faces: list[FontFace], per_font: int, hw_per_char: int,
               seed: int, canvas_per_char: int = 0) -> tuple[list[Task], list[str]]:
    """Tasks in a fixed order, plus notes about characters that could not be produced."""
    tasks, notes = [], []
    if "printed" in styles:
        for face, source in zip(faces, source_names(faces)):
            have = outlined_chars(face)
            covered = [c for c in chars if c in have]
            if len(covered) < len(chars):
                notes.append(f"{face.name}: {len(chars) - len(covered)} characters without outlines skipped")
            tasks += [Task("printed", c, face, source, per_font, 0, seed) for c in _chunks(covered, per_font)]
    if "handwriting" in styles and hw_per_char > 0:
        from hieralign.knowledge.strokes import StrokeDatabase

        db = StrokeDatabase.load()
        with_strokes = [c for c in chars if db.has(c)]
        if len(with_strokes) < len(chars):
            notes.append(f"handwriting: {len(chars) - len(with_strokes)} characters have no stroke paths, skipped")
        tasks += [Task("handwriting", c, None, "synthetic-handwriting", hw_per_char, 0, seed)
                  for c in _chunks(with_strokes, hw_per_char)]
    if "canvas" in styles and canvas_per_char > 0:
        from hieralign.knowledge.strokes import StrokeDatabase

        db = StrokeDatabase.load()
        with_strokes = [c for c in chars if db.has(c)]
        tasks += [Task("canvas", c, None, "synthetic-canvas", canvas_per_char, 0, seed)
                  for c in _chunks(with_strokes, canvas_per_char)]
    return tasks, notes


def _run(tasks: list[Task], rcfg: RenderConfig, hcfg: HandwritingConfig, workers: int, writer: GlyphStoreWriter) -> None:
    total = sum(len(t.chars) * t.copies for t in tasks)
    jobs = [(t, rcfg, hcfg) for t in tasks]
    bar = progress(total=total, desc="rendering", unit="img")
    if workers <= 1:
        results = map(_render_task, jobs)
        pool = None
    else:
        import multiprocessing as mp

        pool = mp.get_context("fork" if os.name == "posix" else "spawn").Pool(workers)
        results = pool.imap(_render_task, jobs, chunksize=1)
    try:
        for (task, _, _), (images, labels, source) in zip(jobs, results):
            writer.append(images, labels, task.style, source)
            bar.update(len(labels))
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()


def _faces_for(args: argparse.Namespace, chars: list[str]) -> list[FontFace]:
    families = [f.strip() for f in args.fonts.split(",") if f.strip()] if args.fonts else None
    if families:
        faces = training_faces(chars, args.min_coverage, families=families, role=args.role)
    elif args.role == "train":
        faces = default_training_faces(chars, args.min_coverage)
    else:
        faces = training_faces(chars, args.min_coverage, role="eval")
    if not faces:
        raise SystemExit(f"hieralign data build: no installed font covers {args.min_coverage:.0%} of the "
                         f"selected characters for role {args.role}; install the packages in "
                         "apt-packages.txt (or apt-packages-bench.txt for test-only families)")
    return faces


def _select(args: argparse.Namespace):
    """The selection; `--charset wide` first finds what the training families draw (data/wide.py)."""
    if args.charset.strip().lower() != "wide":
        return select_chars(args.charset, args.split, args.seen, args.part, args.role)
    if args.role != "train":
        raise SystemExit("hieralign data build: --charset wide is a training vocabulary (--role train)")
    import tempfile

    from hieralign.data.wide import wide_charset
    from hieralign.knowledge.charsets import charset

    base = [c for c in charset("jis2-zs")[: -len(charset("jis2"))]]  # faces must cover the known classes
    chars = wide_charset(_faces_for(args, base), args.max_classes)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write("\n".join(chars) + "\n")
    try:
        sel = select_chars(f.name, None, None, "all", "train")
    finally:
        os.unlink(f.name)
    sel.charset_name = "wide"
    sel.split = "jis2-zs-wide"
    sel.notes.insert(0, f"wide vocabulary: {len(sel.chars):,} classes (kana + CJK Unified + Ext A drawn by the "
                        f"training families, reserved JIS level 2 excluded{', capped' if args.max_classes else ''})")
    return sel


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign data build", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--charset", default="etl9g", help="charset name, comma list or file (store label space); "
                   "'wide' = every kana / CJK Unified / Ext A character the training families draw (train with "
                   "--split jis2-zs-wide)")
    p.add_argument("--max-classes", type=int, default=0, help="--charset wide: keep at most this many classes "
                   "(the jis2-zs ones first, then the most widely drawn); 0 = all")
    p.add_argument("--split", default="etl9g-zs", help="zero-shot protocol (etl9g-zs, gb-zs) or 'none'")
    p.add_argument("--seen", type=int, default=None, help="m: the first m classes are seen (default: the protocol's largest m)")
    p.add_argument("--part", choices=("seen", "unseen", "all"), default=None,
                   help="which part of the split to render (default: seen for train, unseen for eval)")
    p.add_argument("--role", choices=("train", "eval"), default="train")
    p.add_argument("--styles", default="printed,handwriting", help="comma list of: printed, handwriting, canvas")
    p.add_argument("--out", required=True, help="output store directory")
    p.add_argument("--fonts", default=None, help="comma list of font families (default: the role's families)")
    p.add_argument("--per-font", type=int, default=1, help="images per character and font face")
    p.add_argument("--hw-per-char", type=int, default=40, help="synthetic handwriting samples per character (40: the default "
                   "etl9g-zs m=2036 build then holds >= 100k images, 80 %% handwriting)")
    p.add_argument("--canvas-per-char", type=int, default=2, help="pen-drawn (canvas style) samples per character")
    p.add_argument("--size", type=int, default=64, help="image side in pixels")
    p.add_argument("--margin", type=int, default=4, help="blank border around the fitted glyph")
    p.add_argument("--min-coverage", type=float, default=0.95, help="min share of the chars a face must draw")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-chars", type=int, default=None, help="only the first N selected chars (smoke tests)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store at --out")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    unknown = sorted(set(styles) - set(STYLES))
    if unknown:
        raise SystemExit(f"hieralign data build: unknown style(s) {unknown}; choose from {', '.join(STYLES)}")
    started = time.time()
    sel = _select(args)
    chars = sel.chars[: args.limit_chars] if args.limit_chars else sel.chars
    faces = _faces_for(args, chars) if "printed" in styles else []
    seed = args.seed + (EVAL_SEED_OFFSET if args.role == "eval" else 0)
    tasks, notes = plan_tasks(chars, styles, faces, args.per_font, args.hw_per_char, seed, args.canvas_per_char)
    rcfg = RenderConfig(size=args.size, margin=args.margin)
    hcfg = HandwritingConfig(size=args.size, margin=args.margin)
    meta = {"builder": "hieralign data build", "build_args": vars(args), **sel.meta(), "styles_requested": styles,
            "fonts": [{"name": n, "family": f.family, "path": f.path, "index": f.index, "role": f.role}
                      for f, n in zip(faces, source_names(faces))],
            "handwriting_seed": seed, "render_config": asdict(rcfg), "handwriting_config": asdict(hcfg)}
    capacity = sum(len(t.chars) * t.copies for t in tasks)
    with GlyphStoreWriter(args.out, sel.charset, args.size, max(1, capacity), args.overwrite, meta) as writer:
        _run(tasks, rcfg, hcfg, args.workers, writer)
        store = writer.close()
    _summary(store, sel.notes + notes, time.time() - started)
    return 0


def _summary(store, notes: list[str], seconds: float) -> None:
    meta = store.meta
    size_mb = sum(f.stat().st_size for f in Path(store.path).iterdir()) / 1e6
    print(f"wrote {store.path}: {len(store):,} images of {meta['num_classes_present']:,} classes "
          f"(label space {len(store.charset):,}), {meta['image_size'][0]}×{meta['image_size'][1]}, "
          f"{size_mb:.1f} MB, {seconds:.1f} s")
    print(f"  role {meta['role']}, split {meta['split']} (seen={meta['seen']}), part {meta['part']}")
    for style, n in meta["counts_by_style"].items():
        print(f"  style {style:<12} {n:>9,}")
    for source, n in meta["counts_by_source"].items():
        print(f"  source {source:<32} {n:>9,}")
    for note in notes:
        print(f"  note: {note}")
