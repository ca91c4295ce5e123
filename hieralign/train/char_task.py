"""`CharTask`: HierCode / Hi-GITA on a glyph store, as a task of the one training engine.

Text side: the training classes' decompositions are the class texts. HierCode scores every
image against all training-class prototypes each step (a (V x D) matmul, cheap). Hi-GITA's text
transformers are too costly to run over ~2,000 classes per step on a CPU, so each step encodes
the batch's classes plus random other training classes as negatives, up to
`text_classes_per_step` per process (gathered across processes, so negatives grow with them).
The data order depends on (seed, epoch) only, augmentation on the engine's per-step generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hieralign.data.preprocessing import GlyphPreprocess
from hieralign.models.char import HierCodeWithHiGITA
from hieralign.models.char.text_encoder import TextBatch
from hieralign.models.char.texts import DecompositionTokenizer
from hieralign.models.registry import create_model
from hieralign.train.data import ClassPlan, class_chunked_order, plan_classes, select_images
from hieralign.train.engine import EngineConfig
from hieralign.utils.seed import seed_everything

SPARSE_CODES_ABOVE = 8192  # HierCode: training classes above which the class codes are a sparse matrix
BANK_CHUNK = 512  # classes per text-tower call when the Hi-GITA bank is refreshed


@dataclass
class CharTaskConfig:
    data: str = ""  # glyph store (hieralign data build / import) with the training images
    use_higita: bool = False  # Hi-GITA (True) or the HierCode baseline (False), as in the seed
    preset: str = ""  # lite | balanced | full | standard; "" = balanced (Hi-GITA) or standard (HierCode)
    split: str = "etl9g-zs"  # zero-shot protocol (DESIGN.md §4) deciding seen/unseen classes
    seen: int | None = None  # m: train on the first m classes of the protocol (default: the largest m)
    val_classes: int = 100  # seen classes held out (images excluded) for zero-shot validation / `best`
    val_max_images: int = 3000  # validation images evaluated per validation (a fixed, seeded subset)
    images_per_class: int = 2  # k: batches are built from runs of k images of one class (B/k classes per batch)
    text_bank_every: int = 0  # Hi-GITA: refresh a memory bank of every training class's text embedding every N steps; the character loss then sees every class each step (0 = off)
    text_classes_per_step: int = 0  # Hi-GITA: pad the batch's classes with random training classes up to this (0 = off)
    loss_weights: str = ""  # Hi-GITA "stroke,radical,character" loss weights; "" = the preset's (0.3,0.5,0.2)
    val_glyphs: bool = False  # validation also scores with reference glyphs of the store's training faces (slower)
    image_loss_weight: float = 0.5  # weight of the image<->image contrastive term (same class = positive; 0 = off)
    augment: bool = True  # batch augmentation from hieralign.data.augment (seeded, never flips)
    limit_samples: int = 0  # use at most this many training images (seeded subset; 0 = all)

    def resolved_preset(self) -> str:
        return self.preset or ("balanced" if self.use_higita else "standard")

    def parsed_loss_weights(self) -> list[float] | None:
        if not self.loss_weights:
            return None
        try:
            weights = [float(w) for w in self.loss_weights.split(",")]
        except ValueError:
            weights = []
        if len(weights) != 3:
            raise ValueError(f"--loss-weights wants three numbers stroke,radical,character; got {self.loss_weights!r}")
        return weights


class LossStep(nn.Module):
    """The model with the loss as `forward`, so accelerate/DDP wraps the loss computation.

    Its state dict is the model's own (no `model.` prefix): checkpoints load into a bare model.
    """

    def __init__(self, model: HierCodeWithHiGITA, image_weight: float = 0.0):
        super().__init__()
        self.model, self.image_weight = model, image_weight

    def forward(self, images, labels, strokes, ids, codes, text_labels, bank=None, bank_labels=None):
        return self.model.loss(images, labels, TextBatch(strokes, ids, codes), text_labels, self.image_weight,
                               bank, bank_labels)

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.model.load_state_dict(state_dict, strict=strict, assign=assign)


class CharTask:
    selection_metric = "val_top1"
    sample_unit = "glyphs"

    def __init__(self, cfg: CharTaskConfig, engine: EngineConfig):
        from hieralign.data.store import GlyphStore

        if not cfg.data:
            raise ValueError("--data is required (a glyph store from `hieralign data build` or `data import`)")
        self.cfg, self.engine = cfg, engine
        self.store = GlyphStore.open(cfg.data)
        self.preprocess = GlyphPreprocess.from_store_meta(self.store.meta)
        self.plan: ClassPlan = plan_classes(cfg.split, cfg.seen, cfg.val_classes, engine.seed, self.store.charset)
        self.sel = select_images(self.store, self.plan, cfg.limit_samples, cfg.val_max_images, engine.seed)
        if not len(self.sel.train):
            raise ValueError(f"{cfg.data}: no usable training images under {cfg.split} (dropped: {self.sel.dropped})")
        class_of = {c: i for i, c in enumerate(self.plan.train_chars)}
        self.label_map = np.array([class_of.get(c, -1) for c in self.store.charset], np.int64)
        self.train_labels = self.label_map[np.asarray(self.store.labels)[self.sel.train]]
        self._build_model()
        self._augmenter: Any = None
        self._order: tuple[int, np.ndarray] | None = None
        self._faces: list | None = None
        self._bank: tuple[int, torch.Tensor] | None = None  # (refresh step, (V,D)) Hi-GITA memory bank
        self._step = 0  # global step of the batch being trained (the bank's refresh clock)

    def _build_model(self) -> None:
        cfg = self.cfg
        preset = cfg.resolved_preset()
        if preset == "standard" and cfg.use_higita:
            raise ValueError("--preset standard is the HierCode baseline; drop --use-higita or pick lite/balanced/full")
        higita = preset != "standard"  # --use-higita picks balanced; an explicit Hi-GITA preset implies it
        self.tokenizer = DecompositionTokenizer.build(self.plan.train_chars, self.plan.region, higita)
        seed_everything(self.engine.seed)  # the initial weights are a function of the seed
        net: Any = create_model(preset, use_higita_enhancement=higita, ids_vocab_size=self.tokenizer.vocab_size,
                           codebook_size=self.tokenizer.codebook_size)
        size = net.config.image.image_size
        if size != self.preprocess.image_size:
            raise ValueError(f"{cfg.data} holds {self.preprocess.image_size} px glyphs but preset {preset!r} takes "
                             f"{size} px: rebuild the store with --size {size} or pick a preset of that size")
        weights = cfg.parsed_loss_weights()
        if weights:
            loss = net.config.loss
            loss.weight_stroke, loss.weight_radical, loss.weight_character = weights
        self.net: HierCodeWithHiGITA = net
        self.model = LossStep(net, cfg.image_loss_weight)
        self.texts = self.tokenizer.encode(self.plan.train_chars)
        if not higita and len(self.plan.train_chars) > SPARSE_CODES_ABOVE:
            # a wide vocabulary: the dense (V x codebook) multi-hot would cost V*C*D FLOPs a step
            self.texts = TextBatch(self.texts.strokes, self.texts.ids, self.texts.codes.to_sparse())

    # ---------------------------------------------------------------- engine protocol
    def steps_per_epoch(self, world_size: int) -> int:
        return len(self.sel.train) // (self.engine.batch_size * world_size)

    def _epoch_order(self, epoch: int) -> np.ndarray:
        if self._order is None or self._order[0] != epoch:
            rng = np.random.default_rng([self.engine.seed, epoch])
            self._order = (epoch, class_chunked_order(self.sel.train, self.train_labels, self.cfg.images_per_class, rng))
        return self._order[1]

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]:
        b = self.engine.batch_size
        self._step = epoch * self.steps_per_epoch(world_size) + step
        start = (step * world_size + rank) * b
        idx = np.sort(self._epoch_order(epoch)[start:start + b])
        images = torch.from_numpy(np.asarray(self.store.images[idx])).float().div_(255.0)[:, None]
        labels = torch.from_numpy(self.label_map[np.asarray(self.store.labels[idx])])
        return {"images": images, "labels": labels}

    def _text_classes(self, labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.net.use_higita_enhancement:
            return torch.arange(len(self.plan.train_chars))
        batch = torch.unique(labels.cpu())
        extra = self.cfg.text_classes_per_step - len(batch)
        if extra <= 0:
            return batch
        others = torch.ones(len(self.plan.train_chars), dtype=torch.bool)
        others[batch] = False
        pool = others.nonzero().squeeze(1)
        return torch.cat([batch, pool[torch.randperm(len(pool), generator=gen)[:extra]]])

    def training_forward(self, model: nn.Module, batch: dict[str, torch.Tensor],
                         generator: torch.Generator) -> dict[str, torch.Tensor]:
        images, labels = batch["images"], batch["labels"]
        if self.cfg.augment:
            images = self._augment(images.cpu(), generator).to(images.device)
        classes = self._text_classes(labels, generator)
        device = images.device
        if not self.net.use_higita_enhancement:  # every class each step: no selection (codes may be sparse)
            return model(images, labels, self.texts.strokes.to(device), self.texts.ids.to(device),
                         self.texts.codes.to(device), classes.to(device))
        texts = self.texts.select(classes)
        bank = self._text_bank(device)
        extra = (bank, torch.arange(len(bank), device=device)) if bank is not None else ()
        return model(images, labels, texts.strokes.to(device), texts.ids.to(device), texts.codes.to(device),
                     classes.to(device), *extra)

    @torch.no_grad()
    def _text_bank(self, device: torch.device) -> torch.Tensor | None:
        """Hi-GITA: (V,D) detached text embeddings of every training class, re-encoded (eval mode)
        at every multiple of `text_bank_every` steps and on the first step of a (resumed) run."""
        every = self.cfg.text_bank_every
        if every <= 0:
            return None
        if self._bank is None or self._step // every != self._bank[0] // every:
            net, was_training = self.net, self.net.training
            net.eval()
            n = len(self.plan.train_chars)
            rows = [net.encode_text(self.texts.select(torch.arange(i, min(n, i + BANK_CHUNK))).to(device))
                    for i in range(0, n, BANK_CHUNK)]
            net.train(was_training)
            self._bank = (self._step, torch.cat(rows))
        return self._bank[1].to(device)

    def _augment(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self._augmenter is None:
            from hieralign.data.augment import GlyphAugment

            self._augmenter = GlyphAugment()
        return self._augmenter(images, gen)

    @torch.no_grad()
    def validate(self, model: nn.Module) -> dict[str, float]:
        """Zero-shot top-1/top-5 on the held-out validation classes (no augmentation), scored by the
        one zero-shot core (`models/char/candidates.py` + `zeroshot.py`): decomposition-only, and
        with `--val-glyphs` also fused with reference glyphs rendered in the store's training faces."""
        from hieralign.models.char.candidates import build_candidates
        from hieralign.models.char.zeroshot import TorchCharEncoder, ZeroShotClassifier

        net = self.net
        metrics: dict[str, float] = {"logit_scale": float(net.logit_scale().detach())}
        if not len(self.sel.val) or not self.plan.val_chars:
            return metrics
        was_training = net.training
        device = next(net.parameters()).device
        encoder = TorchCharEncoder(net, self.tokenizer, self._encoder_meta(), device=str(device))
        clf = ZeroShotClassifier(encoder, {})
        kind = "both" if self.cfg.val_glyphs else "decomposition"
        matrix = build_candidates(encoder, list(self.plan.val_chars), kind, faces=self._val_faces(), use_disk=False)
        class_of = {c: i for i, c in enumerate(matrix.chars)}
        val_map = np.array([class_of.get(c, -1) for c in self.store.charset], np.int64)
        labels = val_map[np.asarray(self.store.labels[self.sel.val])]
        is_hw = np.asarray(self.store.styles[self.sel.val]) != self._printed_style()
        hits = {"decomposition": np.zeros((0, 2), bool), "both": np.zeros((0, 2), bool)}
        for start in range(0, len(self.sel.val), 512):
            idx = self.sel.val[start:start + 512]
            images = np.asarray(self.store.images[idx], np.float32)[:, None] / 255.0
            fused, decomp, _ = clf.scores(encoder.encode_images(images), matrix, kind)
            for name, scores in (("decomposition", decomp), ("both", fused)):
                hits[name] = np.concatenate([hits[name], _hits(scores, labels[start:start + 512])])
        net.train(was_training)
        out = {**metrics, "val_top1": float(hits["decomposition"][:, 0].mean()),
               "val_top5": float(hits["decomposition"][:, 1].mean()), "val_images": len(self.sel.val),
               "val_classes": len(self.plan.val_chars)}
        if kind == "both":  # printed val images equal their own prototypes: handwriting is the honest part
            out.update({"val_glyphs_top1": float(hits["both"][:, 0].mean()),
                        "val_glyphs_top5": float(hits["both"][:, 1].mean())})
            if is_hw.any():
                out["val_glyphs_hw_top1"] = float(hits["both"][is_hw, 0].mean())
                out["val_hw_top1"] = float(hits["decomposition"][is_hw, 0].mean())
        return out

    def _encoder_meta(self) -> dict[str, Any]:
        return {"preprocessing": self.preprocess.to_meta(), "data": {"sources": self.store.source_names}}

    def _printed_style(self) -> int:
        names = self.store.style_names
        return names.index("printed") if "printed" in names else -1

    def _val_faces(self) -> list | None:
        """Training faces of the store's font sources, found once (None = no glyph validation)."""
        if not self.cfg.val_glyphs:
            return None
        if self._faces is None:
            from hieralign.models.char.glyphs import prototype_faces

            self._faces = prototype_faces(self.store.source_names)
        return self._faces

    def checkpoint_meta(self) -> dict[str, Any]:
        """Everything a loader needs: model config, tokenizer, classes, preprocessing, training args."""
        net = self.net
        return {
            "model": net.config.name, "preset": net.config.preset,
            "config": net.config.to_dict(), "tokenizer": self.tokenizer.to_meta(),
            "protocol": {"split": self.cfg.split, "seen": len(self.plan.train_chars) + len(self.plan.val_chars)},
            "train_chars": "".join(self.plan.train_chars), "val_chars": "".join(self.plan.val_chars),
            "preprocessing": self.preprocess.to_meta(),
            "data": {"store": str(self.cfg.data), "train_images": int(len(self.sel.train)),
                     "val_images": int(len(self.sel.val)), "dropped": self.sel.dropped,
                     "styles": self.store.style_names, "sources": self.store.source_names},
            "training": {**asdict(self.cfg), **asdict(self.engine)},
        }

    def check_resume(self, meta: dict[str, Any]) -> None:
        if meta.get("tokenizer", {}).get("hash") != self.tokenizer.hash:
            raise ValueError("the checkpoint was trained with another vocabulary/codebook than this run builds "
                             "(different --split/--seen/--val-classes/--seed?); use a fresh --out")

    def save_model(self, model: nn.Module, out_dir: Path) -> None:
        """Nothing to add: `best.safetensors` (written by the engine) is the loadable model."""


def _hits(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 2) bool: label is the top-1 / within the top-5 of each score row."""
    from hieralign.models.char.zeroshot import top_k

    top = top_k(scores, 5)
    return np.stack([top[:, 0] == labels, (top == labels[:, None]).any(axis=1)], axis=1)
