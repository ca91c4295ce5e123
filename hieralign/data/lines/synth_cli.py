"""`hieralign data lines`: a synthetic line dataset with train/val/test JSONL manifests.

A *document* is a group of lines sharing one font, one style and one source id (like one
pecha volume written by one hand). Training faces' documents are split per style over whole
documents, so no document has lines in two splits. Test-only faces (DESIGN §4) only ever get
test documents, and every test line is also written to `test_sets/<style>/<face>.jsonl` so
results are reported per style and per face. Training text is bospell words and syllable
sequences; gettext-catalog text (`--mo-eval-docs`) only ever goes to the test split.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hieralign.data.fonts import ROLE_TEST_ONLY, TibetanFace, check_tibetan_training_faces
from hieralign.data.lines.manifest import LineRecord, normalize_text, write_manifest
from hieralign.data.lines.synth import (
    degrade,
    discover_tibetan_fonts,
    parse_font_arg,
    render_line,
    require_raqm,
    sample_degradation,
)
from hieralign.data.lines.text import (
    WordSampler,
    bospell_words,
    check_training_text,
    mo_text_sampler,
    text_file_words,
)
from hieralign.utils.io import atomic_write_json
from hieralign.utils.progress import progress

SPLITS = ("train", "val", "test")


@dataclass
class SynthConfig:
    """What `hieralign data lines` renders."""

    output_dir: str  # dataset root: images/ + train.jsonl, val.jsonl, test.jsonl, test_sets/, dataset.json
    num_docs: int = 300  # documents in training faces (all styles; split train/val/test)
    lines_per_doc: int = 40  # lines per document
    style_weights: str = "print=0.45,cursive=0.35,degraded=0.2"  # style mix; degraded = print faces, heavy damage
    split_fractions: str = "0.8,0.1,0.1"  # train,val,test fractions of documents (per style)
    min_words: int = 2  # words per line (lower bound)
    max_words: int = 36  # words per line (upper bound; bospell words average 2 syllables -> ~70-syllable pecha lines)
    min_font_size: int = 26  # font size range in px
    max_font_size: int = 40
    seed: int = 0  # everything (text, fonts, damage, splits) follows from it
    syllable_fraction: float = 0.3  # share of lines that are random syllable sequences, not word sequences
    test_docs_per_face: int = 2  # test documents per (test-only face, style); 0 = render no test-only face
    train_only: bool = False  # only train/val documents (no test docs at all): training data for a shipped model
    mo_eval_docs: int = 0  # extra test documents whose text comes from gettext catalogs (evaluation only)


def _parse_weights(spec: str) -> dict[str, float]:
    weights = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        weights[name.strip()] = float(value)
    return weights


def _faces_of(style: str, faces: list[TibetanFace]) -> list[TibetanFace]:
    return [f for f in faces if f.style == ("print" if style == "degraded" else style)]


def plan_documents(cfg: SynthConfig, faces: list[TibetanFace], rng: random.Random) -> list[dict]:
    """(doc id, style, font, split, text source) for every document."""
    train_faces = [f for f in faces if f.role != ROLE_TEST_ONLY]
    test_faces = [f for f in faces if f.role == ROLE_TEST_ONLY]
    if cfg.train_only and test_faces:  # every document would be train/val: refuse, do not drop silently
        check_tibetan_training_faces(test_faces)
    weights = {s: w for s, w in _parse_weights(cfg.style_weights).items() if _faces_of(s, train_faces)}
    if not weights:
        raise ValueError(f"no training font for styles {cfg.style_weights!r}; fonts found: "
                         f"{[f.name for f in faces]}. Install fonts-tibetan-machine (apt-packages.txt) "
                         "or pass --font PATH[:STYLE].")
    names, docs = sorted(weights), []
    for i in range(cfg.num_docs):
        style = rng.choices(names, weights=[weights[n] for n in names])[0]
        face = rng.choice(_faces_of(style, train_faces))
        docs.append({"source": f"doc{i:05d}", "style": style, "face": face, "text": "train"})
    fractions = [float(x) for x in cfg.split_fractions.split(",")]
    assign_splits(docs, [fractions[0], fractions[1], 0.0] if cfg.train_only else fractions, rng)
    if not cfg.train_only:
        docs += _test_documents(cfg, faces, test_faces, names, rng)
    return docs


def _test_documents(cfg: SynthConfig, faces: list[TibetanFace], test_faces: list[TibetanFace],
                    styles: list[str], rng: random.Random) -> list[dict]:
    docs: list[dict] = []
    for face in test_faces:
        for style in [s for s in styles if face in _faces_of(s, test_faces)]:
            for _ in range(cfg.test_docs_per_face):
                docs.append({"source": f"test{len(docs):04d}", "style": style, "face": face,
                             "text": "train", "split": "test"})
    for i in range(cfg.mo_eval_docs):
        style = styles[i % len(styles)]
        docs.append({"source": f"mo{i:04d}", "style": style, "face": rng.choice(_faces_of(style, faces)),
                     "text": "mo", "split": "test"})
    return docs


def assign_splits(docs: list[dict], fractions: list[float], rng: random.Random) -> None:
    """Whole documents to train/val/test, per style, so every split sees every style."""
    for style in sorted({d["style"] for d in docs}):
        group = [d for d in docs if d["style"] == style]
        rng.shuffle(group)
        n_val = max(1, round(fractions[1] * len(group))) if len(group) >= 3 and fractions[1] > 0 else 0
        n_test = max(1, round(fractions[2] * len(group))) if len(group) >= 3 and fractions[2] > 0 else 0
        for j, doc in enumerate(group):
            doc["split"] = "val" if j < n_val else "test" if j < n_val + n_test else "train"


def check_plan(docs: list[dict], samplers: dict[str, WordSampler]) -> None:
    """The protocol guard (DESIGN §4): no test-only face and no reserved text outside `test`."""
    check_tibetan_training_faces([d["face"] for d in docs if d["split"] != "test"])
    for doc in docs:
        check_training_text(samplers[doc["text"]], doc["split"])


def render_documents(cfg: SynthConfig, docs: list[dict], samplers: dict[str, WordSampler],
                     rng: random.Random) -> list[LineRecord]:
    out = Path(cfg.output_dir)
    records = []
    bar = progress(total=len(docs) * cfg.lines_per_doc, desc="rendering lines", unit="line")
    for doc in docs:
        (out / "images" / doc["source"]).mkdir(parents=True, exist_ok=True)
        size, face = rng.randint(cfg.min_font_size, cfg.max_font_size), doc["face"]
        for k in range(cfg.lines_per_doc):
            text = normalize_text(samplers[doc["text"]].line(rng, cfg.min_words, cfg.max_words))
            image = degrade(render_line(text, face.path, size), sample_degradation(rng, doc["style"] == "degraded"), rng)
            rel = f"images/{doc['source']}/{k:04d}.png"
            image.save(out / rel)
            records.append(LineRecord(rel, text, source=doc["source"], style=doc["style"], split=doc["split"],
                                      extra={"font": Path(face.path).name, "face": face.family, "role": face.role,
                                             "text_source": samplers[doc["text"]].name}))
            bar.update(1)
    bar.close()
    return records


def write_test_sets(out: Path, records: list[LineRecord]) -> dict[str, int]:
    """`test_sets/<style>/<face>.jsonl` for every test line (image paths relative to that file, so
    each set reads on its own); returns lines per set."""
    groups: dict[str, list[LineRecord]] = {}
    for r in records:
        if r.split == "test":
            moved = replace(r, image_path=f"../../{r.image_path}")
            groups.setdefault(f"{r.style}/{r.extra['face'].replace(' ', '_')}", []).append(moved)
    for key, rows in groups.items():
        write_manifest(out / "test_sets" / f"{key}.jsonl", rows)
    return {key: len(rows) for key, rows in sorted(groups.items())}


def build_dataset(cfg: SynthConfig, faces: list[TibetanFace], words: WordSampler,
                  eval_text: WordSampler | None = None) -> dict:
    """Render everything, write manifests; returns the dataset card."""
    require_raqm()
    rng = random.Random(cfg.seed)
    docs = plan_documents(cfg, faces, rng)
    samplers = {"train": words}
    if any(d["text"] == "mo" for d in docs):
        samplers["mo"] = eval_text or mo_text_sampler()
    check_plan(docs, samplers)
    records = render_documents(cfg, docs, samplers, rng)
    out = Path(cfg.output_dir)
    for split in SPLITS:
        write_manifest(out / f"{split}.jsonl", [r for r in records if r.split == split])
    card = {
        "config": asdict(cfg),
        "fonts": sorted({(Path(f.path).name, f.style, f.role) for f in faces}),
        "lines_per_split": dict(Counter(r.split for r in records)),
        "lines_per_split_style": dict(Counter(f"{r.split}/{r.style}" for r in records)),
        "documents_per_split": dict(Counter(d["split"] for d in docs)),
        "test_sets": write_test_sets(out, records),
    }
    atomic_write_json(out / "dataset.json", card)
    return card


def parse_args(argv: list[str] | None) -> tuple[SynthConfig, argparse.Namespace]:
    d = SynthConfig("")
    p = argparse.ArgumentParser(prog="hieralign data lines", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", "--output-dir", dest="out", required=True, help="dataset directory")
    p.add_argument("--num-docs", type=int, default=d.num_docs, help="documents in training faces")
    p.add_argument("--lines-per-doc", type=int, default=d.lines_per_doc, help="lines per document")
    p.add_argument("--styles", default=d.style_weights, help="style mix, e.g. print=0.5,cursive=0.5")
    p.add_argument("--split-fractions", default=d.split_fractions, help="train,val,test document fractions")
    p.add_argument("--min-words", type=int, default=d.min_words, help="words per line, lower bound")
    p.add_argument("--max-words", type=int, default=d.max_words, help="words per line, upper bound")
    p.add_argument("--syllable-fraction", type=float, default=d.syllable_fraction,
                   help="share of lines that are random bospell syllable sequences")
    p.add_argument("--test-docs-per-face", type=int, default=d.test_docs_per_face,
                   help="test documents per test-only face and style")
    p.add_argument("--train-only", action="store_true", help="render train/val documents only (no test split)")
    p.add_argument("--mo-eval-docs", type=int, default=0, help="test documents with gettext-catalog text (eval only)")
    p.add_argument("--font", action="append", default=[], help="PATH[:STYLE] (repeatable); default: installed Tibetan fonts")
    p.add_argument("--text-file", help="UTF-8 text to draw words from (any script); default: bospell's Tibetan dictionary")
    p.add_argument("--seed", type=int, default=0, help="seed for text, fonts, damage and splits")
    a = p.parse_args(argv)
    cfg = SynthConfig(a.out, a.num_docs, a.lines_per_doc, a.styles, a.split_fractions, a.min_words, a.max_words,
                      seed=a.seed, syllable_fraction=a.syllable_fraction, test_docs_per_face=a.test_docs_per_face,
                      train_only=a.train_only, mo_eval_docs=a.mo_eval_docs)
    return cfg, a


def main(argv: list[str] | None = None) -> int:
    cfg, a = parse_args(argv)
    faces = [parse_font_arg(f) for f in a.font] or discover_tibetan_fonts(role="train" if cfg.train_only else None)
    words = text_file_words(a.text_file) if a.text_file else bospell_words(cfg.syllable_fraction)
    try:
        card = build_dataset(cfg, faces, words)
    except ValueError as exc:  # protocol refusals and bad mixes: one line, exit 2
        print(f"hieralign data lines: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {sum(card['lines_per_split'].values())} lines to {cfg.output_dir}: {card['lines_per_split_style']}")
    return 0
