"""Render the sample images shipped in hieralign/assets/samples/ (used by `hieralign demo`).

Reserved JIS X 0208 level-2 kanji (never training images, DESIGN §4), drawn in test-only font
families and by the handwriting synthesiser on the evaluation seed stream, saved the way a user
would have them: dark ink on light paper, at a different size than the model's input.
File names start with the true character. Needs `make bench-setup` (test-only fonts).

Run: .venv/bin/python scripts/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from hieralign.data.build import EVAL_SEED_OFFSET
from hieralign.data.fonts import discover_fonts
from hieralign.data.handwriting import HandwritingConfig, sample_rng, synthesize
from hieralign.data.render import RenderConfig, render_glyph
from hieralign.knowledge.strokes import StrokeDatabase

OUT = Path(__file__).resolve().parents[1] / "hieralign" / "assets" / "samples"
PRINTED = {"鬱": "Klee One", "麒": "BIZ UD Mincho", "檸": "kiloji", "薔": "Klee One"}
HANDWRITTEN = ["蛛", "鸚", "檬", "蜻"]


def save(ink: np.ndarray, name: str) -> None:
    paper = Image.fromarray(255 - ink).resize((96, 96), Image.Resampling.LANCZOS)
    paper.save(OUT / f"{name}.png", optimize=True)


def main() -> None:
    from hieralign.knowledge.protocols import reserved

    not_reserved = (set(PRINTED) | set(HANDWRITTEN)) - set(reserved())
    if not_reserved:
        raise SystemExit(f"samples must be reserved JIS level-2 kanji: {sorted(not_reserved)}")
    OUT.mkdir(parents=True, exist_ok=True)
    faces = {f.canonical_family: f for f in discover_fonts() if f.role == "test-only"}
    for ch, family in PRINTED.items():
        if family not in faces:
            raise SystemExit(f"test-only family {family!r} not installed: run `make bench-setup`")
        save(render_glyph(faces[family], ch, RenderConfig(size=64)), f"{ch}-{family.replace(' ', '')}")
    db = StrokeDatabase.load()
    for ch in HANDWRITTEN:
        ink = synthesize(db.paths(ch), sample_rng(EVAL_SEED_OFFSET, ch, 0), HandwritingConfig(), db.types(ch))
        save(ink, f"{ch}-handwriting")
    print(f"wrote {len(PRINTED) + len(HANDWRITTEN)} samples to {OUT}")


if __name__ == "__main__":
    main()
