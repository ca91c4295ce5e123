"""PNG grid of the worst confusions: the image, the true and the predicted character, and both
decompositions, drawn with Pillow and an installed CJK font (boxes if none is installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hieralign.utils.io import atomic_path

CELL_H, IMG = 76, 64


PREFERRED = ("IPA Gothic", "Noto Sans CJK", "Seto", "IPA Mincho", "VL Gothic")


def _cjk_font(px: int, needs: str = "漢"):
    """An installed face with outlines for every char of `needs` (IDS operators ⿰… are rare in
    Japanese fonts: Seto and the AR PL faces have them), preferred families first."""
    from hieralign.data.fonts import discover_fonts, outlined_chars

    faces = sorted(discover_fonts(), key=lambda f: (f.canonical_family not in PREFERRED,
                                                    PREFERRED.index(f.canonical_family) if f.canonical_family in PREFERRED else 0))
    for face in faces:
        try:
            if all(c in outlined_chars(face) for c in needs):
                return ImageFont.truetype(face.path, px, index=face.index)
        except OSError:
            continue
    return ImageFont.load_default()


def draw_confusions(path: str | Path, rows: list[dict[str, Any]], images: list[np.ndarray | None],
                    decompose, title: str = "") -> None:
    """rows: [{true, predicted, count}], images: one example glyph per row (uint8 ink) or None."""
    font = _cjk_font(28)
    small = _cjk_font(16, needs="漢⿰⿱")
    width = 620
    canvas = Image.new("L", (width, 30 + CELL_H * max(1, len(rows))), 255)
    draw = ImageDraw.Draw(canvas)
    draw.text((6, 4), title or "worst confusions (true -> predicted)", fill=0, font=small)
    for r, (row, glyph) in enumerate(zip(rows, images)):
        y = 30 + r * CELL_H
        if glyph is not None:
            canvas.paste(Image.fromarray(255 - np.asarray(glyph, np.uint8)).resize((IMG, IMG)), (6, y))
        draw.text((80, y + 4), row["true"], fill=0, font=font)
        draw.text((118, y + 10), "→", fill=0, font=small)
        draw.text((142, y + 4), row["predicted"], fill=0, font=font)
        draw.text((186, y + 6), f"×{row['count']}", fill=0, font=small)
        draw.text((240, y + 4), f"{row['true']}: {decompose(row['true'])}", fill=0, font=small)
        draw.text((240, y + 30), f"{row['predicted']}: {decompose(row['predicted'])}", fill=0, font=small)
        draw.line([(0, y + CELL_H - 4), (width, y + CELL_H - 4)], fill=200)
    with atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
