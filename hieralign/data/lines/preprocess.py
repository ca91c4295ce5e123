"""Line image preprocessing: deterministic per image, independent of the batch.

Every line becomes a fixed `height x width` canvas of ink intensity (uint8, 0 = paper,
255 = ink, the project's convention): scaled to the canvas height with its aspect ratio kept,
squeezed horizontally only if it is wider than the canvas, and padded on the right with paper.
Because the canvas never depends on the other images of a batch (the reference implementation
padded each batch to its widest image), an image always gets the same embedding.

Pipelines (`--image-preprocess-pipeline`):
- `none`: grayscale, inverted to ink intensity.
- `default`: grayscale, contrast stretched between the paper and ink percentiles.
- `bdrc`: grayscale + adaptive (local-mean) threshold + padding, like BDRC's line tools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter

PIPELINES = ("none", "default", "bdrc")


@dataclass
class PreprocessConfig:
    """How a line image becomes the model's input canvas."""

    pipeline: str = "default"  # none | default | bdrc
    height: int = 48  # canvas height in px (multiple of the vision patch size)
    width: int = 384  # canvas width in px (multiple of the patch size); wider lines are squeezed
    pad: int = 2  # paper border (px) added around the ink before scaling (bdrc/default)
    bdrc_window: int = 15  # adaptive threshold: local-mean window (px, odd)
    bdrc_offset: int = 10  # adaptive threshold: ink = darker than local mean minus this

    def __post_init__(self) -> None:
        if self.pipeline not in PIPELINES:
            raise ValueError(f"unknown --image-preprocess-pipeline {self.pipeline!r}; choose one of {PIPELINES}")

    def to_dict(self) -> dict:
        return asdict(self)


def _gray(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=np.float32)


def _stretch(gray: np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 255]: paper level -> 0, ink level -> 255."""
    ink = 255.0 - gray
    low, high = np.percentile(ink, 50), np.percentile(ink, 99.5)
    if high - low < 8:  # blank or flat image: keep as is rather than amplify noise
        return ink
    return np.clip((ink - low) * (255.0 / (high - low)), 0, 255)


def _adaptive_threshold(image: Image.Image, window: int, offset: int) -> np.ndarray:
    gray = image.convert("L")
    local_mean = np.asarray(gray.filter(ImageFilter.BoxBlur(window // 2)), dtype=np.float32)
    ink = np.asarray(gray, dtype=np.float32) < (local_mean - offset)
    return ink.astype(np.float32) * 255.0


def to_ink(image: Image.Image, cfg: PreprocessConfig) -> np.ndarray:
    """Full-resolution ink-intensity array (float32, 0..255) for one pipeline."""
    if cfg.pipeline == "none":
        return 255.0 - _gray(image)
    if cfg.pipeline == "bdrc":
        ink = _adaptive_threshold(image, cfg.bdrc_window, cfg.bdrc_offset)
    else:
        ink = _stretch(_gray(image))
    return np.pad(ink, cfg.pad) if cfg.pad else ink


def fit_canvas(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale to `height` keeping aspect (squeeze if wider than `width`), pad right with paper (0)."""
    h, w = ink.shape
    new_w = max(1, min(width, round(w * height / max(h, 1))))
    scaled = Image.fromarray(ink.astype(np.float32), mode="F").resize((new_w, height), Image.Resampling.BILINEAR)
    canvas = np.zeros((height, width), dtype=np.uint8)
    canvas[:, :new_w] = np.clip(np.asarray(scaled), 0, 255).round().astype(np.uint8)
    return canvas


def preprocess_image(image: Image.Image, cfg: PreprocessConfig) -> np.ndarray:
    """One PIL line image -> uint8 ink canvas (height, width)."""
    return fit_canvas(to_ink(image, cfg), cfg.height, cfg.width)


def load_and_preprocess(path, cfg: PreprocessConfig) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        return preprocess_image(image, cfg)


def to_pixel_values(canvases: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 canvases (B, H, W) or (H, W) -> float32 (B, 1, H, W) in [0, 1]."""
    tensor = torch.as_tensor(np.asarray(canvases)) if not isinstance(canvases, torch.Tensor) else canvases
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    return tensor.unsqueeze(1).float() / 255.0
