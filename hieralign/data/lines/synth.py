"""Synthetic line images: real fonts shaped by raqm, seeded scan-like degradations.

Tibetan stacks (consonant + subjoined letters + vowel signs) only form with complex text
layout, so every font is opened with `ImageFont.Layout.RAQM`; Pillow's BASIC layout draws the
code points side by side. Images are dark ink on light paper (like scans); the model side
converts to ink intensity. Fonts and their protocol roles come from the one registry,
`hieralign.data.fonts` (its Tibetan block).
"""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from hieralign.data.fonts import FONT_DIRS, TibetanFace, discover_tibetan_faces, tibetan_face

FontFace = TibetanFace  # the name the line code used before the registry held Tibetan faces


def require_raqm() -> None:
    """Fail loudly if Pillow cannot shape complex scripts."""
    from PIL import features

    if not (ImageFont.core.HAVE_RAQM and features.check("raqm")):
        raise RuntimeError("Pillow was built without libraqm: Tibetan stacks would render broken. "
                           "Install Pillow from the PyPI wheel (it bundles raqm) or apt-get install libraqm0.")


def discover_tibetan_fonts(dirs: tuple[str, ...] = FONT_DIRS, role: str | None = None) -> list[TibetanFace]:
    """Installed Tibetan faces (all roles unless `role`), sorted by path so seeds reproduce."""
    return discover_tibetan_faces(dirs, role=role)


def parse_font_arg(value: str) -> TibetanFace:
    """`PATH` or `PATH:STYLE` from the command line; the registry decides the role."""
    path, _, style = value.partition(":") if not os.path.exists(value) else (value, "", "")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--font {value}: no such font file")
    return tibetan_face(path, style)


@dataclass
class Degradation:
    """How much damage one line gets; all zero = clean render."""

    blur: float = 0.0  # Gaussian blur radius in px
    noise: float = 0.0  # std of additive Gaussian noise (0..255 scale)
    bleed: int = 0  # ink bleed: MinFilter size (0 or odd >= 3)
    skew: float = 0.0  # rotation in degrees
    downscale: float = 1.0  # render at this fraction, then scale back (low-res scan)
    paper: int = 255  # paper grey level
    ink: int = 0  # ink grey level
    curve: float = 0.0  # baseline curvature: peak vertical displacement in px (warped page)
    uneven: float = 0.0  # uneven ink: up to this fraction of ink fades in smooth patches
    binarize: bool = False  # threshold to pure paper/ink (bitonal scans)
    jpeg: int = 0  # JPEG quality 1..95 (0 = no JPEG round trip)


def sample_degradation(rng: random.Random, heavy: bool) -> Degradation:
    if heavy:
        return Degradation(blur=rng.uniform(0.5, 1.4), noise=rng.uniform(8, 28), bleed=rng.choice([0, 3, 3]),
                           skew=rng.uniform(-2.5, 2.5), downscale=rng.uniform(0.45, 0.7),
                           paper=rng.randint(170, 230), ink=rng.randint(20, 80), curve=rng.uniform(0, 3.0),
                           uneven=rng.uniform(0.2, 0.6), binarize=rng.random() < 0.25,
                           jpeg=rng.choice([0, rng.randint(20, 60)]))
    return Degradation(blur=rng.uniform(0, 0.6), noise=rng.uniform(0, 8), bleed=0, skew=rng.uniform(-0.8, 0.8),
                       downscale=rng.uniform(0.7, 1.0), paper=rng.randint(225, 255), ink=rng.randint(0, 40),
                       curve=rng.uniform(0, 1.0), uneven=rng.uniform(0, 0.2), binarize=False,
                       jpeg=rng.choice([0, 0, rng.randint(60, 95)]))


def render_line(text: str, font_path: str, size: int, margin: int = 6) -> Image.Image:
    """Clean black-on-white render (raqm layout), cropped to the ink with a margin."""
    font = ImageFont.truetype(font_path, size, layout_engine=ImageFont.Layout.RAQM)
    left, top, right, bottom = font.getbbox(text)
    canvas = Image.new("L", (right - left + 4 * margin, bottom - top + 4 * margin), 255)
    ImageDraw.Draw(canvas).text((2 * margin - left, 2 * margin - top), text, font=font, fill=0)
    ink = np.asarray(canvas) < 128
    if not ink.any():
        raise ValueError(f"{font_path}: drew no ink for {text[:20]!r} (font lacks these glyphs?)")
    rows, cols = np.where(ink.any(axis=1))[0], np.where(ink.any(axis=0))[0]
    box = (max(cols[0] - margin, 0), max(rows[0] - margin, 0),
           min(cols[-1] + margin + 1, canvas.width), min(rows[-1] + margin + 1, canvas.height))
    return canvas.crop(box)


def _curve(ink: np.ndarray, amplitude: float, rng: random.Random) -> np.ndarray:
    """Shift each column vertically along one smooth arc (a page that does not lie flat)."""
    pad = int(np.ceil(amplitude)) + 1
    padded = np.pad(ink, ((pad, pad), (0, 0)))
    h, w = padded.shape
    phase, periods = rng.uniform(0, np.pi), rng.uniform(0.3, 1.2)
    offset = np.rint(amplitude * np.sin(phase + periods * np.pi * np.arange(w) / max(w, 1))).astype(int)
    rows = np.clip(np.arange(h)[:, None] - offset[None, :], 0, h - 1)
    return np.take_along_axis(padded, rows, axis=0)


def _uneven(ink: np.ndarray, amount: float, rng: random.Random) -> np.ndarray:
    """Fade the ink in smooth low-frequency patches (worn blocks, thin ink)."""
    h, w = ink.shape
    coarse = np.random.default_rng(rng.getrandbits(32)).random((2, max(2, w // 40))).astype(np.float32)
    field = np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR))
    return ink * (1.0 - amount * field)


def degrade(image: Image.Image, d: Degradation, rng: random.Random) -> Image.Image:
    """Apply `d` to a black-on-white line image (mode L)."""
    if d.skew:
        image = image.rotate(d.skew, resample=Image.BILINEAR, expand=True, fillcolor=255)
    if d.bleed >= 3:
        image = image.filter(ImageFilter.MinFilter(d.bleed))
    if d.downscale < 1.0:
        w, h = image.size
        small = image.resize((max(1, int(w * d.downscale)), max(1, int(h * d.downscale))), Image.BILINEAR)
        image = small.resize((w, h), Image.BILINEAR)
    if d.blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(d.blur))
    ink = 1.0 - np.asarray(image, dtype=np.float32) / 255.0
    if d.curve > 0.5:
        ink = _curve(ink, d.curve, rng)
    if d.uneven > 0:
        ink = _uneven(ink, d.uneven, rng)
    if d.binarize:  # threshold relative to the line's own ink, as a scanner's auto-threshold does:
        # a fixed one erased whole faded, blurred lines (unreadable "degraded" lines seen in val)
        peak = max(float(np.percentile(ink, 99.5)), 1e-3)
        ink = (ink > rng.uniform(0.3, 0.5) * peak).astype(np.float32)
    pixels = d.paper - ink * (d.paper - d.ink)
    if d.noise > 0:
        pixels = pixels + np.random.default_rng(rng.getrandbits(32)).normal(0.0, d.noise, size=pixels.shape)
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    if d.jpeg:
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=d.jpeg)
        out = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return out
