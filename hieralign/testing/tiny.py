"""Tiny *real* models for smoke tests, benchmarks and the docs screenshot (not library code).

It is the real `HierCodeWithHiGITA` + `DecompositionTokenizer`, trained for a few seconds on
glyphs rendered from installed training fonts (IPA Gothic/Mincho by default) and saved in the
same self-describing format as `hieralign train char`, so everything that loads a checkpoint
(CharRecognizer, export, serve) runs on it unchanged. It knows only `chars`; it is not a model.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

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


class TinyCharTask:
    """The tiny model as a task of the one training engine: random picks of the rendered glyphs."""

    selection_metric = ""
    sample_unit = "glyphs"

    def __init__(self, cfg: TinyConfig, target: Path):
        from hieralign.models.char.texts import DecompositionTokenizer
        from hieralign.models.registry import create_model
        from hieralign.train.char_task import LossStep
        from hieralign.utils.seed import seed_everything

        self.cfg, self.target = cfg, target
        self.chars = list(dict.fromkeys(cfg.chars))
        self.tokenizer = DecompositionTokenizer.build(self.chars, "J", higita=cfg.higita)
        seed_everything(cfg.seed)
        net: Any = create_model("tiny-test", image_size=cfg.image_size, use_higita_enhancement=cfg.higita,
                                ids_vocab_size=self.tokenizer.vocab_size, codebook_size=self.tokenizer.codebook_size)
        self.net, self.model = net, LossStep(net)
        glyphs, labels = render_set("".join(self.chars), cfg.families, cfg.image_size, cfg.margin)
        self.images = torch.from_numpy(glyphs).float().div(255)[:, None]
        self.labels = torch.as_tensor(labels)
        self.texts = self.tokenizer.encode(self.chars)

    def steps_per_epoch(self, world_size: int) -> int:
        return self.cfg.steps

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed((self.cfg.seed * 7919 + epoch * self.cfg.steps + step) * world_size + rank)
        pick = torch.randint(0, len(self.images), (self.cfg.batch_size,), generator=gen)
        return {"images": self.images[pick], "labels": self.labels[pick]}

    def training_forward(self, model, batch, generator):
        t = self.texts
        classes = torch.arange(len(self.chars))
        return model(_augment(batch["images"], generator), batch["labels"], t.strokes, t.ids, t.codes, classes)

    def validate(self, model) -> dict[str, float]:
        return {}

    def checkpoint_meta(self) -> dict:
        cfg, net = self.cfg, self.net
        return {"model": net.config.name, "preset": "tiny-test", "config": net.config.to_dict(),
                "tokenizer": self.tokenizer.to_meta(), "train_chars": "".join(self.chars), "val_chars": "",
                "protocol": {"split": "tiny", "seen": len(self.chars)},
                "preprocessing": {"image_size": cfg.image_size, "margin": cfg.margin, "ink_threshold": 32,
                                  "polarity": "ink=255"},
                "data": {"families": list(cfg.families), "note": "tiny smoke-test model"},
                "training": {"steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr, "seed": cfg.seed}}

    def save_model(self, model, out_dir: Path) -> None:
        from hieralign.utils.checkpoint import save_weights

        save_weights(self.target, self.net.state_dict(), self.checkpoint_meta())


def build_tiny_checkpoint(out: str | Path, cfg: TinyConfig | None = None) -> Path:
    """Train `out` (.safetensors) with the real engine and registry; returns its path."""
    from hieralign.train.engine import EngineConfig, fit

    cfg = cfg or TinyConfig()
    task = TinyCharTask(cfg, Path(out))
    with tempfile.TemporaryDirectory(prefix="hieralign-tiny-run-") as run:
        # constant LR (final ratio 1, no warm-up), no clipping: a few seconds of plain AdamW
        fit(task, EngineConfig(out=run, epochs=1, max_steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                               weight_decay=1e-4, warmup_steps=0, final_lr_ratio=1.0, grad_clip=0.0, seed=cfg.seed,
                               keep_last=1, max_minutes=cfg.max_seconds / 60, resume_from="none", device="cpu",
                               log_every=10**6))
    task.net.eval()
    return Path(out)


def _cache_key(cfg: TinyConfig) -> str:
    """Changes whenever the config or the code that builds/loads the model changes."""
    import hashlib

    import hieralign

    root = Path(hieralign.__file__).parent
    h = hashlib.sha256(repr(cfg).encode())
    sources = sorted((root / "models" / "char").glob("*.py")) + [Path(__file__), root / "train" / "engine.py",
                                                                 root / "models" / "contrastive.py"]
    for source in sources:
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
    from hieralign.train.line_cli import parse_args
    from hieralign.train.line_clip_task import train_line_clip

    root = Path(root)
    data, out = root / "data", root / "model"
    build_dataset(SynthConfig(str(data), num_docs=5, lines_per_doc=3, min_words=2, max_words=3, seed=1,
                              test_docs_per_face=0),
                  discover_tibetan_fonts(), bospell_words())
    train_line_clip(*parse_args([
        "--train-mode", "line_clip", "--dataset-dir", str(data), "--train-manifest", str(data / "train.jsonl"),
        "--val-manifest", str(data / "val.jsonl"), "--index-manifest", str(data / "test.jsonl"),
        "--out", str(out), "--model", "tiny", "--text-encoder-name-or-path", "tiny",
        "--image-height", "32", "--image-width", "128", "--embed-dim", "16", "--batch-size", "4", "--lr", "1e-3",
        "--warmup-steps", "1", "--max-steps", str(steps), "--checkpoint-every", str(steps),
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


def build_tiny_ctc_model(root: str | Path, steps: int = 250, docs: int = 2, lines_per_doc: int = 4,
                         max_seconds: float = 1800.0) -> tuple[Path, Path]:
    """A tiny CTC line recogniser (the real `LineRecognizer` at 32 px, narrow layers) trained by the
    real engine for `steps` steps on a handful of short synthetic print lines, which it learns to
    read back (overfits); returns (model dir, dataset dir with train.jsonl). Smoke tests only."""
    from hieralign.data.lines.synth import discover_tibetan_fonts
    from hieralign.data.lines.synth_cli import SynthConfig, build_dataset
    from hieralign.data.lines.text import bospell_words
    from hieralign.models.line.ctc import LineRecognizer, LineRecognizerConfig
    from hieralign.train.engine import EngineConfig, fit
    from hieralign.train.line_ctc_task import LineCTCTask, LineCTCTaskConfig

    root = Path(root)
    data, out = root / "data", root / "model"
    build_dataset(SynthConfig(str(data), num_docs=docs, lines_per_doc=lines_per_doc, min_words=1, max_words=2,
                              style_weights="print=1", split_fractions="1,0,0", min_font_size=30, max_font_size=30,
                              seed=2, test_docs_per_face=0),
                  discover_tibetan_fonts(), bospell_words())
    task = LineCTCTask(LineCTCTaskConfig(data=str(data), batch_size=4, height=32, augment=False, seed=0))
    torch.manual_seed(0)  # narrow layers: a few seconds of training, not a model
    task.model = LineRecognizer(LineRecognizerConfig(charset=task.model.config.charset, height=32,
                                                     channels=[16, 24, 32, 48, 48], lstm_hidden=48, lstm_layers=1,
                                                     dropout=0.0))
    fit(task, EngineConfig(out=str(out), epochs=1, max_steps=steps, batch_size=4, lr=3e-3, weight_decay=0.0,
                           warmup_steps=0, final_lr_ratio=1.0, grad_clip=5.0, seed=0, keep_last=1,
                           max_minutes=max_seconds / 60, resume_from="none", device="cpu", num_threads=1,
                           log_every=10**6))
    return out, data
