"""Synthetic line images: real words, real fonts shaped by raqm, seeded degradations.

Tibetan stacks (consonant + subjoined letters + vowel signs) only form with complex text
layout, so every font is opened with `ImageFont.Layout.RAQM`; Pillow's BASIC layout draws the
code points side by side. Images are dark ink on light paper (like scans); the model side
converts to ink intensity (0 = paper) in `preprocess`.
"""

from __future__ import annotations

import glob
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

TSHEG, SHAD = "\u0f0b", "\u0f0d"

# Known Tibetan faces: file-name fragment -> style. Uchen (dbu-can) is the printed book hand;
# dbu-med faces (drutsa, tsugring, petsuk, ...) are the cursive hands.
TIBETAN_FONTS: dict[str, str] = {
    "TibetanMachineUni": "print", "DDC_Uchen": "print", "NotoSerifTibetan": "print",
    "Monlam Uni OuChan": "print", "Monlam Uni Sans Serif": "print", "Jomolhari": "print",
    "Monlam Uni Chouk": "cursive", "Monlam Uni Dutsa": "cursive", "Monlam Uni PayTsik": "cursive",
    "Monlam Uni TikTong": "cursive", "Monlam Uni Tikrang": "cursive",
    "TibetanSambhotaYigchung": "cursive", "sambhota-tsugring": "cursive",
}
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


@dataclass
class FontFace:
    """One font file and the writing style it stands for."""

    path: str  # font file
    style: str  # print | cursive (or whatever --font said)

    @property
    def name(self) -> str:
        return Path(self.path).stem


def require_raqm() -> None:
    """Fail loudly if Pillow cannot shape complex scripts."""
    from PIL import features

    if not (ImageFont.core.HAVE_RAQM and features.check("raqm")):
        raise RuntimeError("Pillow was built without libraqm: Tibetan stacks would render broken. "
                           "Install Pillow from the PyPI wheel (it bundles raqm) or apt-get install libraqm0.")


def discover_tibetan_fonts(dirs: tuple[str, ...] = FONT_DIRS) -> list[FontFace]:
    """Installed Tibetan fonts with their style, sorted by path (so seeds are reproducible)."""
    faces = []
    for root in dirs:
        for path in sorted(glob.glob(os.path.join(os.path.expanduser(root), "**", "*.[ot]tf"), recursive=True)):
            stem = Path(path).name
            for fragment, style in TIBETAN_FONTS.items():
                if fragment in stem:
                    faces.append(FontFace(path, style))
                    break
    return sorted(faces, key=lambda face: face.path)


def parse_font_arg(value: str) -> FontFace:
    """`PATH` or `PATH:STYLE` from the command line."""
    path, _, style = value.partition(":") if not os.path.exists(value) else (value, "", "")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--font {value}: no such font file")
    return FontFace(path, style or "print")


class WordSampler:
    """Draws words by (smoothed) corpus frequency and joins them into lines."""

    def __init__(self, words: list[str], counts: list[float], separator: str = TSHEG, end_mark: str = SHAD):
        if not words:
            raise ValueError("no words to build lines from")
        self.words = words
        weights = np.asarray(counts, dtype=np.float64)
        # sqrt-smoothing keeps frequent particles common without drowning the vocabulary.
        weights = np.sqrt(np.maximum(weights, 0)) + 1.0
        self.cumulative = np.cumsum(weights / weights.sum())
        self.separator, self.end_mark = separator, end_mark

    def line(self, rng: random.Random, min_words: int, max_words: int) -> str:
        n = rng.randint(min_words, max_words)
        picks = np.searchsorted(self.cumulative, [rng.random() for _ in range(n)], side="right")
        words = [self.words[min(i, len(self.words) - 1)] for i in picks]
        text = self.separator.join(words)
        if self.end_mark and rng.random() < 0.5:
            return text + self.end_mark
        return text + self.separator if self.separator.strip() else text


def bospell_words() -> WordSampler:
    """The `bospell` general dictionary (32,845 words with frequencies)."""
    try:
        import bospell
    except ImportError as exc:
        raise ImportError("pip install bospell (extra [data]) or pass --text-file") from exc
    path = Path(bospell.__file__).parent / "resources" / "dictionaries" / "general.txt"
    words, counts = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.rsplit(" ", 1)
        if len(parts) == 2 and parts[1].isdigit() and parts[0].strip():
            words.append(parts[0].strip())
            counts.append(float(parts[1]))
    return WordSampler(words, counts)


def text_file_words(path: str | os.PathLike) -> WordSampler:
    """Any UTF-8 text: whitespace-separated tokens, counted; lines are joined with spaces."""
    from collections import Counter

    counter = Counter(Path(path).read_text(encoding="utf-8").split())
    if not counter:
        raise ValueError(f"{path}: no words found (expected UTF-8 text)")
    words = sorted(counter)
    return WordSampler(words, [counter[w] for w in words], separator=" ", end_mark="")


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


def sample_degradation(rng: random.Random, heavy: bool) -> Degradation:
    if heavy:
        return Degradation(blur=rng.uniform(0.5, 1.4), noise=rng.uniform(8, 28), bleed=rng.choice([0, 3, 3]),
                           skew=rng.uniform(-2.5, 2.5), downscale=rng.uniform(0.45, 0.7),
                           paper=rng.randint(170, 230), ink=rng.randint(20, 80))
    return Degradation(blur=rng.uniform(0, 0.6), noise=rng.uniform(0, 8), bleed=0, skew=rng.uniform(-0.8, 0.8),
                       downscale=rng.uniform(0.7, 1.0), paper=rng.randint(225, 255), ink=rng.randint(0, 40))


def render_line(text: str, font_path: str, size: int, margin: int = 6) -> Image.Image:
    """Clean black-on-white render, cropped to the ink with a margin."""
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
    ink_fraction = 1.0 - np.asarray(image, dtype=np.float32) / 255.0
    pixels = d.paper - ink_fraction * (d.paper - d.ink)
    if d.noise > 0:
        noise_rng = np.random.default_rng(rng.getrandbits(32))
        pixels = pixels + noise_rng.normal(0.0, d.noise, size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
