"""A tiny *real* character checkpoint for smoke tests, benchmarks and the docs screenshot.

It is the real `HierCodeWithHiGITA` + `DecompositionTokenizer`, trained for a few seconds on
glyphs rendered from installed training fonts (IPA Gothic/Mincho by default) and saved in the
same self-describing format as `hieralign train char`, so everything that loads a checkpoint
(CharRecognizer, export, serve) runs on it unchanged. It knows only `chars`; it is not a model.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def _default_chars() -> str:
    from hieralign.knowledge.charsets import charset

    return "".join(charset("etl9g")[71:71 + 16])  # the first 16 JIS level-1 kanji


@dataclass
class TinyConfig:
    chars: str = field(default_factory=_default_chars)  # classes to train on (their images are used)
    families: tuple[str, ...] = ("IPAGothic", "IPAMincho")  # training font families (never test-only ones)
    higita: bool = True  # Hi-GITA (True) or HierCode baseline (False)
    image_size: int = 32  # glyph side: 32 px keeps a training step ~10x cheaper than the 64 px presets
    margin: int = 2  # blank border of the rendered glyphs (recorded as the model's preprocessing)
    steps: int = 120  # optimiser steps (~95 % on its own training fonts after 100)
    batch_size: int = 32  # images per step
    lr: float = 3e-3  # AdamW learning rate
    seed: int = 0  # makes the checkpoint reproducible
    max_seconds: float = 90.0  # stop early when training takes longer than this (busy machines)


def micro_config(cfg: TinyConfig, vocab_size: int, codebook_size: int):
    """A ~75 k-parameter Hi-GITA/HierCode: the real classes, sized for a test's time budget."""
    from hieralign.models.char.config import ImageEncoderConfig, LossConfig, TextEncoderConfig, preset_config

    return preset_config(
        "lite", use_higita_enhancement=cfg.higita, ids_vocab_size=vocab_size, codebook_size=codebook_size,
        embed_dim=64, image=ImageEncoderConfig(image_size=cfg.image_size, stem_channels=16, stage_channels=(16, 32, 48),
                                               blocks_per_stage=(1, 1, 1), num_radicals=8, radical_dim=32, heads=2),
        text=TextEncoderConfig(dim=32, heads=2, stroke_layers=1, ids_layers=1, fusion_layers=1),
        loss=LossConfig(token_dim=32))


def render_set(chars: str, families: tuple[str, ...], size: int = 64, margin: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (N,size,size) glyphs of every char in every family, and their class index."""
    from hieralign.data.fonts import training_faces
    from hieralign.data.render import RenderConfig, render_glyph

    faces = training_faces(list(chars), families=list(families), min_coverage=1.0)
    if not faces:
        raise RuntimeError(f"no installed font of {families} draws all of {chars[:10]}…; install fonts-ipafont-*")
    render = RenderConfig(size=size, margin=margin)
    glyphs = [render_glyph(face, ch, render) for face in faces for ch in chars]
    labels = [i for _ in faces for i in range(len(chars))]
    return np.stack(glyphs), np.asarray(labels)


def _augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Small random scale/shift/shear (never a mirror) and stroke-width change, on the whole batch."""
    n = images.shape[0]
    theta = torch.zeros(n, 2, 3)
    scale = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.3
    shear = (torch.rand(n, generator=gen) - 0.5) * 0.2
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 1] = scale, scale, shear
    theta[:, :, 2] = (torch.rand(n, 2, generator=gen) - 0.5) * 0.2
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, align_corners=False)
    if torch.rand(1, generator=gen).item() < 0.5:
        out = F.max_pool2d(out, 3, 1, 1)  # bolder strokes
    return out


def build_tiny_checkpoint(out: str | Path, cfg: TinyConfig | None = None) -> Path:
    """Train and save `out` (.safetensors); returns its path."""
    from hieralign.models.char import HierCodeWithHiGITA
    from hieralign.models.char.texts import DecompositionTokenizer
    from hieralign.utils.checkpoint import save_weights
    from hieralign.utils.seed import seed_everything

    cfg = cfg or TinyConfig()
    seed_everything(cfg.seed)
    chars = list(dict.fromkeys(cfg.chars))
    tokenizer = DecompositionTokenizer.build(chars, "J", higita=cfg.higita)
    model = HierCodeWithHiGITA(micro_config(cfg, tokenizer.vocab_size, tokenizer.codebook_size))
    glyphs, labels = render_set("".join(chars), cfg.families, cfg.image_size, cfg.margin)
    images = torch.from_numpy(glyphs).float().div(255)[:, None]
    texts, text_labels = tokenizer.encode(chars), torch.arange(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(cfg.seed)
    start = time.monotonic()
    model.train()
    for _ in range(cfg.steps):
        pick = torch.randint(0, len(images), (cfg.batch_size,), generator=gen)
        loss = model.loss(_augment(images[pick], gen), torch.as_tensor(labels)[pick], texts, text_labels)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if time.monotonic() - start > cfg.max_seconds:
            break
    model.eval()
    meta = {"model": model.config.name, "preset": "micro", "config": model.config.to_dict(),
            "tokenizer": tokenizer.to_meta(), "train_chars": "".join(chars), "val_chars": "",
            "protocol": {"split": "tiny", "seen": len(chars)},
            "preprocessing": {"image_size": cfg.image_size, "margin": cfg.margin, "polarity": "ink=255"},
            "data": {"families": list(cfg.families), "note": "tiny smoke-test model"},
            "training": {"steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr, "seed": cfg.seed}}
    save_weights(out, model.state_dict(), meta)
    return Path(out)


def _cache_key(cfg: TinyConfig) -> str:
    """Changes whenever the config or the code that builds/loads the model changes."""
    import hashlib

    import hieralign

    root = Path(hieralign.__file__).parent
    h = hashlib.sha256(repr(cfg).encode())
    for source in sorted((root / "models" / "char").glob("*.py")) + [Path(__file__)]:
        h.update(source.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=4)
def cached_tiny_checkpoint(higita: bool = True) -> Path:
    """The tiny checkpoint, built once and reused from the user cache while the model code is unchanged
    (tests and benchmarks share it; HIERALIGN_CACHE overrides ~/.cache/hieralign)."""
    cfg = TinyConfig(higita=higita)
    cache = Path(os.environ.get("HIERALIGN_CACHE", Path.home() / ".cache" / "hieralign")) / "tiny"
    out = cache / f"tiny-{_cache_key(cfg)}.safetensors"
    if out.is_file():
        return out
    try:
        return build_tiny_checkpoint(out, cfg)
    except OSError:  # read-only home: build in a temporary directory instead
        return build_tiny_checkpoint(Path(tempfile.mkdtemp(prefix="hieralign-tiny-")) / "tiny.safetensors", cfg)


def build_tiny_line_model(root: str | Path, steps: int = 2) -> tuple[Path, Path]:
    """A tiny line-CLIP ('tiny' DINOv2 + ByT5 configs) trained `steps` steps on 5 synthetic Tibetan
    documents; returns (model dir with its faiss_embeddings, dataset dir). For smoke tests only."""
    from hieralign.data.lines.synth import discover_tibetan_fonts
    from hieralign.data.lines.synth_cli import SynthConfig, build_dataset
    from hieralign.data.lines.text import bospell_words
    from hieralign.lines.train_cli import parse_args
    from hieralign.lines.train_loop import run_training

    root = Path(root)
    data, out = root / "data", root / "model"
    build_dataset(SynthConfig(str(data), num_docs=5, lines_per_doc=3, min_words=2, max_words=3, seed=1,
                              test_docs_per_face=0),
                  discover_tibetan_fonts(), bospell_words())
    run_training(parse_args([
        "--train-mode", "line_clip", "--dataset-dir", str(data), "--train-manifest", str(data / "train.jsonl"),
        "--val-manifest", str(data / "val.jsonl"), "--index-manifest", str(data / "test.jsonl"),
        "--output-dir", str(out), "--model-name-or-path", "tiny", "--text-encoder-name-or-path", "tiny",
        "--image-height", "32", "--image-width", "128", "--embed-dim", "16", "--batch-size", "4", "--lr", "1e-3",
        "--warmup-steps", "1", "--max-steps", str(steps), "--checkpoint-every-steps", str(steps),
        "--num-threads", "1"]))
    return out, data


def build_untrained_checkpoint(out: str | Path, preset: str = "balanced", charset_name: str = "etl9g") -> Path:
    """A randomly initialised checkpoint of a real preset, for speed measurements only (its
    answers are meaningless): same layers, input size and candidate count as a trained model."""
    from hieralign.knowledge.charsets import charset
    from hieralign.models.char import create_model, preset_config
    from hieralign.models.char.texts import DecompositionTokenizer
    from hieralign.utils.checkpoint import save_weights

    torch.manual_seed(0)
    chars = charset(charset_name)
    higita = preset_config(preset).use_higita_enhancement
    tokenizer = DecompositionTokenizer.build(chars, "J", higita=higita)
    model = create_model(preset, ids_vocab_size=tokenizer.vocab_size, codebook_size=tokenizer.codebook_size).eval()
    meta = {"model": model.config.name, "preset": preset, "config": model.config.to_dict(),
            "tokenizer": tokenizer.to_meta(), "train_chars": "".join(chars), "val_chars": "",
            "preprocessing": {"image_size": model.config.image.image_size, "margin": 4},
            "data": {"note": "UNTRAINED: for throughput measurements only"}}
    save_weights(out, model.state_dict(), meta)
    return Path(out)
