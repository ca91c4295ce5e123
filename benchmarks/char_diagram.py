"""Draw docs/img/higita_architecture.png (the Hi-GITA / HierCode diagram in docs/HIGITA.md)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BOXES = [  # (x, y, w, h, text, colour)
    (0.2, 6.2, 2.2, 0.9, "glyph 64×64\n(ink/255)", "#eeeeee"),
    (3.0, 6.2, 2.6, 0.9, "patch stem 4×4/4 → 16×16\n3×3 conv blocks → 8×8", "#dbe9f6"),
    (6.2, 6.2, 2.6, 0.9, "STROKE level\n64 tokens (8×8) + pos", "#dbe9f6"),
    (6.2, 4.6, 2.6, 0.9, "RADICAL level\nK=16 queries → cross-attn", "#dbe9f6"),
    (6.2, 3.0, 2.6, 0.9, "CHARACTER level\nattn-pool(radicals ⊕ strokes)", "#dbe9f6"),
    (9.6, 6.2, 2.6, 0.9, "stroke classes (SD 1..5)\n→ transformer", "#fbe5d6"),
    (9.6, 4.6, 2.6, 0.9, "IDS prefix tokens (ops+parts)\n→ transformer", "#fbe5d6"),
    (9.6, 3.0, 2.6, 0.9, "fusion: char query\ncross-attn over both", "#fbe5d6"),
    (6.2, 1.0, 6.0, 1.0, "losses: 0.3·max-sim(stroke tok, stroke cls) + 0.5·max-sim(radical tok, IDS tok)\n"
     "+ 0.2·InfoNCE(char, char)   — zero-shot = argmax cosine(char image, char text)", "#e2f0d9"),
    (0.2, 3.0, 4.6, 1.3, "HierCode baseline:\nsame backbone → attn-pool → embedding\nprototype = Σ codebook[(position, component)]",
     "#f2f2f2"),
]
ARROWS = [((2.4, 6.65), (3.0, 6.65)), ((5.6, 6.65), (6.2, 6.65)), ((7.5, 6.2), (7.5, 5.5)), ((7.5, 4.6), (7.5, 3.9)),
          ((10.9, 6.2), (10.9, 3.9)), ((10.9, 4.6), (10.9, 3.9)), ((7.5, 3.0), (7.5, 2.0)), ((10.9, 3.0), (10.9, 2.0)),
          ((8.8, 6.65), (9.6, 6.65)), ((8.8, 5.05), (9.6, 5.05))]


def draw(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    for name in ("IPAGothic", "IPAPGothic", "Noto Sans CJK JP"):
        if any(name == f.name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.family"] = name
            break
    fig, ax = plt.subplots(figsize=(12.5, 7.5))
    for x, y, w, h, text, colour in BOXES:
        ax.add_patch(plt.Rectangle((x, y), w, h, facecolor=colour, edgecolor="#444444"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)
    for (x0, y0), (x1, y1) in ARROWS:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "color": "#444444"})
    ax.text(7.5, 7.35, "image tower", ha="center", fontsize=11, weight="bold")
    ax.text(10.9, 7.35, "text tower (decomposition)", ha="center", fontsize=11, weight="bold")
    ax.text(9.2, 5.6, "token-level\nmax-sim", ha="center", fontsize=8, color="#555555")
    ax.set(xlim=(0, 12.6), ylim=(0.6, 7.7))
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "higita_architecture.png"
    draw(out)
    print(out)
