"""Draw docs/img/architecture.png: the house of layers, each importing only the layers below it.

Run: .venv/bin/python scripts/draw_architecture.py

One band per layer, top (entry points) to bottom (utils); every arrow points down, from a layer
to one it may import. The outside sources feed the bottom layers from the left. Keep LAYERS in
step with docs/ARCHITECTURE.md and tests/test_layers.py.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

# (layer label, [(module box text, colour)]), top to bottom.
LAYERS = [
    ("entry points", [("hieralign.cli · demo\none console script, lazy subcommands", "#ede9fe")]),
    ("testing", [("hieralign.testing: tiny real models · bad-input catalogue · live server\n"
                   "(for tests and benchmarks; no library module imports it)", "#f5f5f4")]),
    ("products", [("index/\nFAISS line index · search", "#fce7f3"), ("export/\nONNX · INT8", "#fce7f3"),
                  ("serve/\nHTTP API · workbench", "#fce7f3"), ("recognize · transcribe", "#fce7f3")]),
    ("training /\nevaluation", [("train/\nengine.fit(task) · optim · checkpoints\nchar / line-CLIP / CTC tasks",
                                 "#dcfce7"),
                                ("eval/\nchar · line · retrieval metrics", "#dcfce7")]),
    ("models", [("models/\nregistry · contrastive (InfoNCE, SigLIP)", "#fef3c7"),
                ("models/char/\nHierCode · Hi-GITA · zero-shot core", "#fef3c7"),
                ("models/line/\nline-CLIP · CTC recogniser", "#fef3c7")]),
    ("data", [("data/\nfonts · render · handwriting\nGlyphStore · readers", "#dbeafe"),
              ("data/lines/\nmanifests · synth · preprocess", "#dbeafe")]),
    ("knowledge", [("knowledge/\ncharsets · protocols · IDS · strokes\nHierCode codes · vocab · Tibetan", "#e0f2fe")]),
    ("utils", [("utils/\nio · checkpoint · argconfig · seed · progress", "#f1f5f9")]),
]
SOURCES = "cjkvi-ids · KanjiVG · bospell · Debian fonts · ETL / CASIA (yours)"
LEFT, RIGHT, BAND, GAP = 0.16, 0.98, 0.085, 0.04


def band_y(i: int) -> float:
    return 1.0 - (i + 1) * BAND - i * GAP


def draw_band(ax, i: int, label: str, boxes: list[tuple[str, str]]) -> list[tuple[float, float]]:
    """One layer: its label on the left, its modules side by side; returns the boxes' centres."""
    y = band_y(i)
    ax.text(LEFT - 0.015, y + BAND / 2, label, ha="right", va="center", fontsize=10, weight="bold")
    width = (RIGHT - LEFT - 0.012 * (len(boxes) - 1)) / len(boxes)
    centres = []
    for k, (text, colour) in enumerate(boxes):
        x = LEFT + k * (width + 0.012)
        ax.add_patch(FancyBboxPatch((x, y), width, BAND, boxstyle="round,pad=0.004", fc=colour, ec="#334155"))
        ax.text(x + width / 2, y + BAND / 2, text, ha="center", va="center", fontsize=8.5)
        centres.append((x + width / 2, y))
    return centres


def main() -> None:
    fig, ax = plt.subplots(figsize=(12, 10))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(band_y(len(LAYERS) - 1) - 0.07, 1.0)
    for i, (label, boxes) in enumerate(LAYERS):
        draw_band(ax, i, label, boxes)
        if i + 1 < len(LAYERS):  # one arrow per layer boundary: "may import what is below"
            x = (LEFT + RIGHT) / 2
            top, bottom = band_y(i), band_y(i) - GAP
            ax.add_patch(FancyArrowPatch((x, top), (x, bottom), arrowstyle="-|>", mutation_scale=14,
                                         color="#475569", lw=1.5))
    y_sources = band_y(len(LAYERS) - 1) - 0.05
    ax.text(LEFT, y_sources, f"outside sources (read by knowledge/ and data/): {SOURCES}", fontsize=8.5,
            color="#475569", va="center")
    ax.set_title("hieralign: one house. A module imports its own band and the bands below it (arrows: may import)",
                 fontsize=11)
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "architecture.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(out)


if __name__ == "__main__":
    main()
