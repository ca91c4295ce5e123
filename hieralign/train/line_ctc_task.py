"""The CTC line recogniser as a task for the one training engine (`train.engine.fit`).

Data: the train/val manifests are pre-rendered once into memory-mapped line stores
(`data.lines.store`), so a step only slices arrays. Batches are bucketed by width (sorted
within shuffled pools), and `batch(epoch, step, rank, world_size)` is a pure function of its
arguments, which is what exact resume needs. Augmentation runs in torch on the whole batch
from the engine's generator. Protocol (DESIGN §4): training lines in a test-only Tibetan face
or with gettext-catalog text are refused before any step.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hieralign.data.fonts import check_tibetan_training_faces
from hieralign.data.lines.augment import augment_lines
from hieralign.data.lines.store import LineStore, cached_line_store
from hieralign.models.line.ctc import BLANK, LineRecognizer, LineRecognizerConfig, build_charset
from hieralign.models.line.ctc_decode import greedy_decode
from hieralign.models.line.ctc_infer import iter_outputs
from hieralign.utils.text_metrics import error_rates

RESERVED_TEXT_SOURCES = ("gettext-mo",)


@dataclass
class LineCTCTaskConfig:
    """Data and batching for `LineCTCTask` (the model's own fields live in LineRecognizerConfig)."""

    data: str  # dataset folder with train.jsonl / val.jsonl (`hieralign data lines --out`)
    train_manifest: str = ""  # default: <data>/train.jsonl
    val_manifest: str = ""  # default: <data>/val.jsonl
    cache_dir: str = ""  # where line stores go; default: <data>/cache
    batch_size: int = 16  # lines per step per process
    pool_batches: int = 50  # width bucketing: sort by width inside pools of this many batches
    val_limit: int = 400  # validate on the first N val lines (greedy, no augmentation)
    seed: int = 0  # batch order and model init
    augment: bool = True  # whole-batch torch augmentation (data.lines.augment: shear, arc, strokes, scan damage)
    init_from: str = ""  # start from this line-OCR model folder (its weights and charset), not from scratch
    height: int = 48  # input height (the store is built at it; saved in the model config)
    lstm_hidden: int = 128  # BiLSTM hidden size per direction
    horizontal_stride: int = 2  # total width downsampling of the CNN


class LineCTCTask:
    """Implements the engine's Task protocol for `LineRecognizer`."""

    selection_metric = "val_cer"
    selection_mode = "min"

    def __init__(self, cfg: LineCTCTaskConfig):
        self.cfg = cfg
        data = Path(cfg.data)
        self.train_manifest = Path(cfg.train_manifest or data / "train.jsonl")
        self.val_manifest = Path(cfg.val_manifest or data / "val.jsonl")
        cache = Path(cfg.cache_dir or data / "cache")
        self.train = cached_line_store(self.train_manifest, cache, cfg.height)
        check_training_store(self.train)
        # no (or an empty) val manifest = no validation; the engine then keeps the newest checkpoint
        has_val = self.val_manifest.is_file() and self.val_manifest.stat().st_size > 0
        self.val = cached_line_store(self.val_manifest, cache, cfg.height, cfg.val_limit) if has_val else None
        torch.manual_seed(cfg.seed)
        self.model = self._initial_model()
        self.targets = [self.model.charset.encode(t) for t in self.train.texts]
        self._order_cache: tuple[int, list[np.ndarray]] = (-1, [])

    def _initial_model(self) -> LineRecognizer:
        cfg = self.cfg
        if not cfg.init_from:
            return LineRecognizer(LineRecognizerConfig(
                charset=build_charset(self.train.texts), height=cfg.height, lstm_hidden=cfg.lstm_hidden,
                horizontal_stride=cfg.horizontal_stride))
        model = load_init_model(cfg.init_from)
        if model.config.height != cfg.height:
            raise ValueError(f"--init-from {cfg.init_from}: the model reads {model.config.height}-px lines, "
                             f"the line store was built at {cfg.height} px")
        unknown = "".join(sorted(set(build_charset(self.train.texts)) - set(model.charset.units)))
        if unknown:  # new output units for code points the model never saw; old ones keep their index
            print(f"--init-from: {len(unknown)} new output unit(s) for the training text: "
                  f"{' '.join(f'U+{ord(c):04X}' for c in unknown)}", file=sys.stderr)
        return model.with_units(unknown)

    # -- data --
    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        if self._order_cache[0] != epoch:  # one permutation per epoch, not per step
            self._order_cache = (epoch, self._plan_epoch(epoch))
        return self._order_cache[1]

    def _plan_epoch(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.cfg.seed, epoch])
        order = rng.permutation(len(self.train))
        pool = self.cfg.batch_size * self.cfg.pool_batches
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start:start + pool]
            chunk = chunk[np.argsort(self.train.widths[chunk], kind="stable")]
            batches += [chunk[i:i + self.cfg.batch_size] for i in range(0, len(chunk), self.cfg.batch_size)]
        batches = [b for b in batches if len(b) == self.cfg.batch_size] or batches
        return [batches[i] for i in rng.permutation(len(batches))]

    def steps_per_epoch(self, world_size: int) -> int:
        return max(1, len(self._epoch_batches(0)) // max(world_size, 1))

    def batch(self, epoch: int, step: int, rank: int, world_size: int) -> dict[str, torch.Tensor]:
        batches = self._epoch_batches(epoch)
        idx = batches[(step * world_size + rank) % len(batches)]
        widths = self.train.widths[idx]
        images = np.zeros((len(idx), 1, self.train.height, int(widths.max())), dtype=np.uint8)
        for b, i in enumerate(idx):
            images[b, 0, :, : widths[b]] = self.train.image(int(i))
        targets = [self.targets[int(i)] for i in idx]
        return {"images": torch.from_numpy(images), "widths": torch.from_numpy(widths.astype(np.int64)),
                "targets": torch.tensor([u for t in targets for u in t], dtype=torch.long),
                "target_lengths": torch.tensor([len(t) for t in targets], dtype=torch.long)}

    # -- training --
    def training_forward(self, model, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
        images = batch["images"].float() / 255.0
        widths = batch["widths"]
        if self.cfg.augment:
            images, widths = augment_lines(images, widths, generator)
        log_probs, lengths = model(images, widths)
        loss = F.ctc_loss(log_probs, batch["targets"], lengths.cpu(), batch["target_lengths"], blank=BLANK,
                          reduction="mean", zero_infinity=True)
        return {"total": loss, "ctc": loss.detach()}

    @torch.no_grad()
    def validate(self, model) -> dict[str, float]:
        if self.val is None:
            return {}
        net = getattr(model, "module", model)
        was_training = net.training
        net.eval()
        try:
            arrays = [self.val.image(i) for i in range(len(self.val))]
            hyps = [""] * len(arrays)
            for idx, log_probs, lengths in iter_outputs(net, arrays):
                for i, (text, _) in zip(idx, greedy_decode(log_probs, lengths, net.charset)):
                    hyps[i] = text
        finally:
            net.train(was_training)
        rates = error_rates(self.val.texts, hyps)
        return {"val_cer": rates["cer"], "val_wer": rates["wer"], "val_exact": rates["exact"],
                "val_lines": float(len(arrays))}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"task": "line-ctc", "task_config": asdict(self.cfg), "model_config": asdict(self.model.config),
                "train_manifest": str(self.train_manifest), "train_lines": len(self.train),
                "train_faces": sorted(set(self.train.faces))}

    def save_model(self, model, out_dir: Path) -> None:
        getattr(model, "module", model).save_pretrained(str(out_dir))


def load_init_model(path: str) -> LineRecognizer:
    """A line-OCR model folder to warm-start from (a missing or foreign folder is a ValueError)."""
    from hieralign.models.line.ctc_infer import load_line_recognizer

    try:
        return load_line_recognizer(path).train()
    except (OSError, KeyError, TypeError) as exc:
        raise ValueError(f"--init-from {path}: not a line-OCR model folder ({exc})") from exc


def check_training_store(store: LineStore) -> None:
    """Refuse training lines in test-only Tibetan faces or with reserved text (DESIGN §4)."""
    check_tibetan_training_faces([f for f in set(store.fonts) if f])
    if any(s in RESERVED_TEXT_SOURCES for s in store.text_sources):
        raise ValueError("training manifest holds gettext-catalog text, reserved for evaluation (DESIGN §4)")
