"""`hieralign eval char`: top-1/top-5 of a checkpoint on a glyph store, zero-shot or closed-set.

  hieralign eval char --model runs/higita/best.safetensors --data stores/eval-unseen \\
      --mode zero-shot --split etl9g-zs --seen 2036 --out reports/higita.json

zero-shot: candidates = the protocol's unseen classes (or --candidates); closed: candidates =
the classes the model trained on. Only images whose class is a candidate are scored.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign eval char", description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", "--checkpoint", dest="model", required=True,
                   help="weights file (.safetensors) or a run directory (uses best)")
    p.add_argument("--data", "--data-dir", dest="data", required=True, help="glyph store to evaluate on")
    p.add_argument("--mode", choices=("zero-shot", "closed"), default="zero-shot",
                   help="zero-shot: the protocol's unseen classes; closed: the trained classes")
    p.add_argument("--split", default=None, help="protocol; unset = the checkpoint's")
    p.add_argument("--seen", type=int, default=None, help="m of the protocol; unset = the checkpoint's")
    p.add_argument("--candidates", default=None, help="charset name / comma list / all / file (overrides --mode)")
    p.add_argument("--styles", default=None, help="comma list: only images of these styles")
    p.add_argument("--descriptors", default="decomposition,both",
                   help="comma list of decomposition | glyphs | both; each is reported apart (DESIGN §4: "
                        "decomposition-only vs with reference glyphs)")
    p.add_argument("--glyph-weight", type=float, default=None, help="fusion weight on glyphs; unset = the model's")
    p.add_argument("--top-k", type=int, default=5, help="candidates reported per image")
    p.add_argument("--batch-size", type=int, default=512, help="images encoded at once")
    p.add_argument("--limit", type=int, default=0, help="evaluate at most this many images (seeded subset)")
    p.add_argument("--out", default=None, help="JSON report path; unset = print only")
    p.add_argument("--confusions-png", default=None, help="PNG of the worst confusions; unset = next to --out")
    p.add_argument("--device", default="cpu", help="torch device")
    return p


def choose_candidates(args, meta: dict) -> tuple[list[str], list[str]]:
    """(candidates, classes the model trained on)."""
    from hieralign.knowledge import protocols
    from hieralign.models.char.recognizer import resolve_candidates

    trained = list(meta.get("train_chars", ""))
    if args.candidates:
        return resolve_candidates(args.candidates), trained
    if args.mode == "closed":
        return trained, trained
    proto = meta.get("protocol", {})
    _, unseen = protocols.split(args.split or proto.get("split", "etl9g-zs"), args.seen or proto.get("seen"))
    return unseen, trained


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hieralign.data.store import GlyphStore
    from hieralign.eval.char_eval import predict, summarise
    from hieralign.models.char.recognizer import CharRecognizer

    rec = CharRecognizer.from_checkpoint(args.model, device=args.device)
    store = GlyphStore.open(args.data)
    candidates, trained = choose_candidates(args, rec.meta)
    from hieralign.models.char.candidates import resolve_candidates

    candidates = resolve_candidates(candidates)  # NFKC-folded like every candidate list (idempotent)
    styles = [s.strip() for s in args.styles.split(",")] if args.styles else None
    indices = store.indices_for(candidates, styles)
    if args.limit and len(indices) > args.limit:
        indices = np.sort(np.random.default_rng(0).choice(indices, args.limit, replace=False))
    if not len(indices):
        raise SystemExit(f"{args.data}: no images of the {len(candidates)} candidate classes"
                         f"{' with styles ' + args.styles if styles else ''}; check --mode/--split/--seen")
    regimes = [d.strip() for d in args.descriptors.split(",") if d.strip()]
    by_regime, pred, seconds = {}, None, 0.0
    for regime in regimes:
        start = time.time()
        pred = predict(rec, store, indices, candidates, args.top_k, args.batch_size, regime, args.glyph_weight)
        seconds = time.time() - start
        by_regime[regime] = summarise(pred, store, candidates)
    report = dict(by_regime[regimes[-1]])
    report["descriptors"] = {r: {"overall": v["overall"], "by_style": v["by_style"]} for r, v in by_regime.items()}
    report["regime"] = regimes[-1]
    leaked = sorted(set(candidates) & set(trained))
    report.update({
        "checkpoint": str(args.model), "store": str(args.data), "mode": args.mode,
        "candidates": len(candidates), "candidates_seen_in_training": len(leaked),
        "zero_shot": args.mode == "zero-shot" and not leaked, "card": rec.card(),
        "seconds": round(seconds, 2), "glyphs_per_s": round(len(indices) / max(seconds, 1e-9), 1),
    })
    _print_summary(report)
    if args.out:
        _write_outputs(args, report, rec, store, pred, candidates)
    return 0


def _print_summary(report: dict) -> None:
    for regime, r in report.get("descriptors", {}).items():
        print(f"descriptors={regime}: top-1 {r['overall']['top1']:.4f}  top-5 {r['overall']['top5']:.4f}")
    o = report["overall"]
    print(f"{report['mode']}: {o['n']} images, {report['candidates']} candidates: "
          f"top-1 {o['top1']:.4f}  top-5 {o['top5']:.4f}")
    for name, acc in report["by_style"].items():
        print(f"  style {name:<14} n={acc['n']:<6} top-1 {acc['top1']:.4f}  top-5 {acc['top5']:.4f}")
    for name, acc in sorted(report["by_source"].items()):
        print(f"  source {name:<28} n={acc['n']:<6} top-1 {acc['top1']:.4f}")
    if report["candidates_seen_in_training"]:
        print(f"  note: {report['candidates_seen_in_training']} candidates were training classes (not zero-shot)")


def _write_outputs(args, report, rec, store, pred, candidates) -> None:
    from hieralign.eval.char_eval import example_for_pair
    from hieralign.eval.confusions import draw_confusions
    from hieralign.utils.io import atomic_write_json

    out = Path(args.out)
    atomic_write_json(out, report)
    png = Path(args.confusions_png) if args.confusions_png else out.with_suffix(".confusions.png")
    rows = report["confusions"][:16]
    examples = [example_for_pair(pred, candidates, r["true"], r["predicted"]) for r in rows]
    images = [np.asarray(store.images[i]) if i is not None else None for i in examples]
    draw_confusions(png, rows, images, rec.decomposition, title=f"{Path(args.model).name}: worst confusions")
    print(f"report: {out}\nconfusions: {png}")
