"""Tiny glyph stores rendered by the tests themselves from an installed training font."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hieralign.data.fonts import discover_fonts
from hieralign.data.render import RenderConfig, render_glyph
from hieralign.data.store import GlyphStore, GlyphStoreWriter


def ipa_faces() -> list:
    faces = [f for f in discover_fonts() if f.canonical_family in ("IPA Gothic", "IPA Mincho")]
    if not faces:
        pytest.skip("IPA fonts not installed (apt-packages.txt: fonts-ipafont-gothic / -mincho)")
    return faces


def render_store(path: Path, chars: list[str], shifts: tuple[int, ...] = (0, 2, -2), charset: list[str] | None = None,
                 style: str = "printed") -> GlyphStore:
    """Each char in every IPA face, plus small shifted copies (cheap variety)."""
    faces = ipa_faces()
    with GlyphStoreWriter(path, charset or chars, size=64) as writer:
        for face in faces:
            glyphs = np.stack([render_glyph(face, c, RenderConfig()) for c in chars])
            for dx in shifts:
                writer.append(np.roll(glyphs, dx, axis=2), chars, style=style, source=face.name)
    return GlyphStore.open(path)


SEEN_M = 500  # the tiny stores are ETL9G-ZS with m = 500


def train_args(store, out, *extra):
    """`hieralign train char` arguments for a seconds-long run on a tiny store."""
    return ["--data-dir", str(store.path), "--checkpoint-dir", str(out), "--seen", str(SEEN_M),
            "--val-classes", "20", "--batch-size", "32", "--max-steps-per-epoch", "3", "--num-threads", "1",
            "--epochs", "2", "--preset", "lite", "--lr", "3e-3", *extra]
