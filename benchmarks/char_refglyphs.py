"""Reference glyphs beside decompositions: the shipped model, unchanged, scored three ways.

For each evaluation set, top-1/top-5 with `decomposition`, `glyphs` and `both` (DESIGN §4 keeps
the regimes apart):
  (a) reserved JIS level-2 kanji (3,390 candidates; truly zero-shot for the shipped model):
      each installed test-only printed face, and synthetic handwriting on the evaluation seed stream;
  (b) seen jōyō kanji (2,136 candidates) in the test-only faces, clean and degraded (low
      resolution, dilation, erosion, salt-and-pepper), fed as raw scans through `prepare`.
`--choose-weight` picks the fusion weight on held-out SEEN-split classes only (the checkpoint's
validation classes, never trained on: eval-seed handwriting, and prints in a training family left
out of the prototypes); it never looks at the reserved set. Writes benchmarks/results/char_refglyphs[_weight].json.

  python benchmarks/char_refglyphs.py --limit 200                 # tiny: 200 characters per set
  python benchmarks/char_refglyphs.py --choose-weight --limit 300
  python benchmarks/char_refglyphs.py                             # full (all characters)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hieralign.utils.io import atomic_write_json  # noqa: E402

REGIMES = ("decomposition", "glyphs", "both")
WEIGHTS = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(ROOT / "hieralign/assets/models/char-hiercode/model.safetensors"))
    p.add_argument("--limit", type=int, default=0, help="characters sampled per set (0 = all)")
    p.add_argument("--hw-samples", type=int, default=2, help="handwriting samples per character")
    p.add_argument("--glyph-weight", type=float, default=None, help="fusion weight (default: the model's)")
    p.add_argument("--choose-weight", action="store_true", help="pick the weight on held-out seen classes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    return p.parse_args(argv)


def sample(chars: list[str], limit: int, seed: int) -> list[str]:
    if not limit or limit >= len(chars):
        return list(chars)
    return [chars[i] for i in sorted(np.random.default_rng(seed).choice(len(chars), limit, replace=False))]


def printed(faces, chars: list[str], size: int) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    """Per face: (renders, their characters), only characters the face draws with outlines."""
    from hieralign.data.fonts import outlined_chars, source_names
    from hieralign.data.render import RenderConfig, render_glyph

    out = {}
    for face, name in zip(faces, source_names(faces)):  # kiloji, kiloji - B, kiloji - D told apart
        have = [c for c in chars if c in outlined_chars(face)]
        if have:
            out[name] = ([render_glyph(face, c, RenderConfig(size=size)) for c in have], have)
    return out


def handwriting(chars: list[str], samples: int, seed: int, size: int) -> tuple[list[np.ndarray], list[str]]:
    """Synthetic handwriting on the evaluation seed stream (never a training sample)."""
    from hieralign.data.build import EVAL_SEED_OFFSET
    from hieralign.data.handwriting import HandwritingConfig, sample_rng, synthesize
    from hieralign.knowledge.strokes import StrokeDatabase

    db, cfg = StrokeDatabase.load(), HandwritingConfig(size=size)
    images, labels = [], []
    for ch in (c for c in chars if db.has(c) and db.paths(c)):
        for k in range(samples):
            images.append(synthesize(db.paths(ch), sample_rng(seed + EVAL_SEED_OFFSET, ch, k), cfg, db.types(ch)))
            labels.append(ch)
    return images, labels


def degrade(img: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """A scan-like copy (dark ink on white paper, 96 px) of a normalised glyph."""
    page = np.asarray(Image.fromarray(img).resize((96, 96), Image.Resampling.BILINEAR)).astype(np.float32)
    if kind == "lowres":
        page = np.asarray(Image.fromarray(page.astype(np.uint8)).resize((20, 20), Image.Resampling.BOX)
                          .resize((96, 96), Image.Resampling.BILINEAR)).astype(np.float32)
    elif kind in ("dilate", "erode"):
        from PIL import ImageFilter

        filt = ImageFilter.MaxFilter(5) if kind == "dilate" else ImageFilter.MinFilter(3)
        page = np.asarray(Image.fromarray(page.astype(np.uint8)).filter(filt)).astype(np.float32)
    elif kind == "salt_pepper":
        noise = rng.random(page.shape)
        page[noise < 0.02] = 255
        page[noise > 0.98] = 0
    return (255 - np.clip(page, 0, 255)).astype(np.uint8)


def evaluate(rec, images, labels, candidates, weight=None) -> dict[str, dict[str, float]]:
    matrix = rec.candidate_matrix(candidates, "both")
    pos = {c: i for i, c in enumerate(matrix.chars)}
    truth = np.array([pos[c] for c in labels])
    emb = rec.encoder.encode_images(rec.prepare(images))
    from hieralign.models.char.zeroshot import top_k

    out = {}
    for regime in REGIMES:
        fused, _, _ = rec.scores(emb, matrix, regime, weight)
        top = top_k(fused, 5)
        out[regime] = {"n": len(labels), "top1": float((top[:, 0] == truth).mean()),
                       "top5": float((top == truth[:, None]).any(axis=1).mean())}
    return out


def run_sets(rec, args) -> dict:
    from hieralign.data.fonts import training_faces
    from hieralign.knowledge.charsets import charset

    jis2, joyo = charset("jis2"), charset("joyo")
    seen = [c for c in joyo if c in set(rec.meta.get("train_chars", ""))]
    eval_faces = training_faces([], min_coverage=0.0, role="eval")
    print(f"test-only faces installed: {', '.join(f.name for f in eval_faces) or 'none (install apt-packages-bench.txt)'}")
    results: dict = {}
    for name, chars, cands in (("jis2", sample(jis2, args.limit, args.seed), jis2),
                               ("seen-joyo", sample(seen, args.limit, args.seed), joyo)):
        for face, (imgs, labels) in printed(eval_faces, chars, rec.image_size).items():
            results[f"{name} printed {face}"] = evaluate(rec, imgs, labels, cands, args.glyph_weight)
            if name == "seen-joyo":
                rng = np.random.default_rng(args.seed)
                for kind in ("lowres", "dilate", "erode", "salt_pepper"):
                    deg = [degrade(im, kind, rng) for im in imgs]
                    results[f"{name} degraded-{kind} {face}"] = evaluate(rec, deg, labels, cands, args.glyph_weight)
        imgs, labels = handwriting(chars, args.hw_samples, args.seed, rec.image_size)
        results[f"{name} handwriting"] = evaluate(rec, imgs, labels, cands, args.glyph_weight)
    return results


def choose_weight(rec, args) -> dict:
    """Grid search of the fusion weight on the checkpoint's held-out validation classes (seen-split
    classes whose images never trained it: zero-shot for the model, yet not the reserved set),
    candidates = every seen-split class; images = eval-seed handwriting and prints in one training
    family that the prototypes leave out. Falls back to trained jōyō classes without val_chars."""
    from hieralign.knowledge.charsets import charset
    from hieralign.models.char.glyphs import prototype_faces

    val = list(rec.meta.get("val_chars", ""))
    trained = list(rec.meta.get("train_chars", ""))
    pool = val or [c for c in charset("joyo") if c in set(trained)]
    chars = sample(pool, args.limit, args.seed + 1)
    faces = prototype_faces(rec.encoder.train_families)
    held, protos = faces[0], faces[1:]
    images, labels = handwriting(chars, args.hw_samples, args.seed, rec.image_size)
    for imgs, labs in printed([held], chars, rec.image_size).values():
        images, labels = images + imgs, labels + labs
    matrix = rec.candidate_matrix(trained + val, "both", faces=protos)
    pos = {c: i for i, c in enumerate(matrix.chars)}
    truth = np.array([pos[c] for c in labels])
    emb = rec.encoder.encode_images(rec.prepare(images))
    grid = {}
    for w in WEIGHTS:
        fused, _, _ = rec.scores(emb, matrix, "both", w)
        grid[str(w)] = float((fused.argmax(1) == truth).mean())
    best = max(grid, key=lambda w: (grid[w], -abs(float(w) - 0.5)))
    return {"classes": "val_chars (held out, never trained)" if val else "trained joyo", "chars": len(chars),
            "held_out_face": held.name, "prototype_faces": [f.name for f in protos], "images": len(labels),
            "candidates": len(matrix.chars), "top1_by_weight": grid, "chosen_weight": float(best)}


def _shown(path: str) -> str:
    """The model path as reports show it: relative to the repository when inside it (no machine paths)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else path


def main(argv=None) -> int:
    args = parse_args(argv)
    from hieralign.models.char.recognizer import CharRecognizer

    rec = CharRecognizer.from_checkpoint(args.model)
    start = time.time()
    out = Path(args.out)
    if args.choose_weight:
        report = choose_weight(rec, args)
        for w, acc in report["top1_by_weight"].items():
            print(f"w={w:<5} top-1 {acc:.4f}")
        print(f"chosen glyph weight: {report['chosen_weight']} (held out: {report['held_out_face']})")
        path = out / "char_refglyphs_weight.json"
    else:
        results = run_sets(rec, args)
        print(f"{'set':<58}" + "".join(f"{r:>22}" for r in REGIMES))
        for name, by in results.items():
            print(f"{name:<58}" + "".join(f"{by[r]['top1']:>10.1%} /{by[r]['top5']:>8.1%}  " for r in REGIMES))
        report = {"results": results, "glyph_weight": args.glyph_weight or rec.glyph_weight}
        path = out / "char_refglyphs.json"
    report.update({"model": _shown(args.model), "limit": args.limit, "seconds": round(time.time() - start, 1)})
    atomic_write_json(path, report)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
