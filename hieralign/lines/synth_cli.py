"""`hieralign data lines`: a synthetic line dataset with train/val/test JSONL manifests.

A *document* is a group of lines sharing one font, one style and one source id (like one
pecha volume written by one hand). Splits are drawn per style over whole documents, so no
document has lines in two splits.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hieralign.data.lines.manifest import LineRecord, normalize_text, write_manifest
from hieralign.lines.synth import (
    FontFace,
    WordSampler,
    bospell_words,
    degrade,
    discover_tibetan_fonts,
    parse_font_arg,
    render_line,
    require_raqm,
    sample_degradation,
    text_file_words,
)
from hieralign.utils.io import atomic_write_json
from hieralign.utils.progress import progress

SPLITS = ("train", "val", "test")


@dataclass
class SynthConfig:
    """What `hieralign data lines` renders."""

    output_dir: str  # dataset root: images/ + train.jsonl, val.jsonl, test.jsonl, dataset.json
    num_docs: int = 300  # documents in total (all styles)
    lines_per_doc: int = 40  # lines per document
    style_weights: str = "print=0.45,cursive=0.35,degraded=0.2"  # style mix; degraded = print faces, heavy damage
    split_fractions: str = "0.8,0.1,0.1"  # train,val,test fractions of documents (per style)
    min_words: int = 3  # words per line (lower bound)
    max_words: int = 8  # words per line (upper bound)
    min_font_size: int = 26  # font size range in px
    max_font_size: int = 40
    seed: int = 0  # everything (text, fonts, damage, splits) follows from it


def _parse_weights(spec: str) -> dict[str, float]:
    weights = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        weights[name.strip()] = float(value)
    return weights


def plan_documents(cfg: SynthConfig, faces: list[FontFace], rng: random.Random) -> list[dict]:
    """(doc id, style, font, split) for every document."""
    by_style: dict[str, list[FontFace]] = {}
    for face in faces:
        by_style.setdefault(face.style, []).append(face)
    weights = {s: w for s, w in _parse_weights(cfg.style_weights).items()
               if by_style.get("print" if s == "degraded" else s)}
    if not weights:
        raise SystemExit(f"no font for styles {cfg.style_weights!r}; fonts found: {[f.name for f in faces]}. "
                         "Install fonts-tibetan-machine (see apt-packages.txt) or pass --font PATH[:STYLE].")
    names = sorted(weights)
    docs = []
    for i in range(cfg.num_docs):
        style = rng.choices(names, weights=[weights[n] for n in names])[0]
        face = rng.choice(by_style["print" if style == "degraded" else style])
        docs.append({"source": f"doc{i:05d}", "style": style, "font": face.path})
    assign_splits(docs, [float(x) for x in cfg.split_fractions.split(",")], rng)
    return docs


def assign_splits(docs: list[dict], fractions: list[float], rng: random.Random) -> None:
    """Whole documents to train/val/test, per style, so every split sees every style."""
    for style in sorted({d["style"] for d in docs}):
        group = [d for d in docs if d["style"] == style]
        rng.shuffle(group)
        n_val = max(1, round(fractions[1] * len(group))) if len(group) >= 3 else 0
        n_test = max(1, round(fractions[2] * len(group))) if len(group) >= 3 else 0
        for j, doc in enumerate(group):
            doc["split"] = "val" if j < n_val else "test" if j < n_val + n_test else "train"


def render_documents(cfg: SynthConfig, docs: list[dict], words: WordSampler, rng: random.Random) -> list[LineRecord]:
    out = Path(cfg.output_dir)
    records = []
    bar = progress(total=len(docs) * cfg.lines_per_doc, desc="rendering lines", unit="line")
    for doc in docs:
        (out / "images" / doc["source"]).mkdir(parents=True, exist_ok=True)
        size = rng.randint(cfg.min_font_size, cfg.max_font_size)
        for k in range(cfg.lines_per_doc):
            text = normalize_text(words.line(rng, cfg.min_words, cfg.max_words))
            image = degrade(render_line(text, doc["font"], size), sample_degradation(rng, doc["style"] == "degraded"), rng)
            rel = f"images/{doc['source']}/{k:04d}.png"
            image.save(out / rel)
            records.append(LineRecord(rel, text, source=doc["source"], style=doc["style"], split=doc["split"],
                                      extra={"font": Path(doc["font"]).name}))
            bar.update(1)
    bar.close()
    return records


def build_dataset(cfg: SynthConfig, faces: list[FontFace], words: WordSampler) -> dict:
    """Render everything, write manifests; returns the dataset card."""
    require_raqm()
    rng = random.Random(cfg.seed)
    docs = plan_documents(cfg, faces, rng)
    records = render_documents(cfg, docs, words, rng)
    out = Path(cfg.output_dir)
    for split in SPLITS:
        write_manifest(out / f"{split}.jsonl", [r for r in records if r.split == split])
    card = {
        "config": cfg.__dict__,
        "fonts": sorted({(Path(f.path).name, f.style) for f in faces}),
        "lines_per_split": dict(Counter(r.split for r in records)),
        "lines_per_split_style": dict(Counter(f"{r.split}/{r.style}" for r in records)),
        "documents_per_split": dict(Counter(d["split"] for d in docs)),
    }
    atomic_write_json(out / "dataset.json", card)
    return card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hieralign data lines", description=__doc__)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--num-docs", type=int, default=SynthConfig.num_docs)
    p.add_argument("--lines-per-doc", type=int, default=SynthConfig.lines_per_doc)
    p.add_argument("--styles", default=SynthConfig.style_weights, help="e.g. print=0.5,cursive=0.5")
    p.add_argument("--split-fractions", default=SynthConfig.split_fractions)
    p.add_argument("--min-words", type=int, default=SynthConfig.min_words)
    p.add_argument("--max-words", type=int, default=SynthConfig.max_words)
    p.add_argument("--font", action="append", default=[], help="PATH[:STYLE] (repeatable); default: installed Tibetan fonts")
    p.add_argument("--text-file", help="UTF-8 text to draw words from (any script); default: bospell's Tibetan dictionary")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    cfg = SynthConfig(a.output_dir, a.num_docs, a.lines_per_doc, a.styles, a.split_fractions,
                      a.min_words, a.max_words, seed=a.seed)
    faces = [parse_font_arg(f) for f in a.font] or discover_tibetan_fonts()
    words = text_file_words(a.text_file) if a.text_file else bospell_words()
    card = build_dataset(cfg, faces, words)
    print(f"wrote {sum(card['lines_per_split'].values())} lines to {a.output_dir}: {card['lines_per_split_style']}")
    return 0
