"""`CharTrainer`: one training loop for HierCode and Hi-GITA on CPU, one GPU or several (accelerate).

Text side: the training classes' decompositions are the class texts. HierCode scores every
image against all training-class prototypes each step (a (V x D) matmul, cheap). Hi-GITA's text
transformers are too costly to run over ~2,000 classes per step on a CPU, so each step encodes
the batch's classes plus random other training classes as negatives, up to
`text_classes_per_step` per process (gathered across processes, so negatives grow with them).
Exact resume: data order depends on (seed, epoch), augmentation and dropout on (seed, step), so
a killed run restarted from its last checkpoint replays the same steps.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hieralign.models.char import HierCodeWithHiGITA, preset_config
from hieralign.models.char.text_encoder import TextBatch
from hieralign.models.char.texts import DecompositionTokenizer
from hieralign.train import checkpoints
from hieralign.train.config import TrainConfig
from hieralign.train.data import ClassPlan, class_chunked_order, plan_classes, select_images
from hieralign.train.history import write_history
from hieralign.train.schedule import make_optimizer, make_scheduler
from hieralign.utils.progress import progress
from hieralign.utils.seed import rng_state, seed_everything, set_rng_state


class LossStep(nn.Module):
    """Wraps the model so accelerate/DDP sees the loss computation as `forward`."""

    def __init__(self, model: HierCodeWithHiGITA):
        super().__init__()
        self.model = model

    def forward(self, images, labels, strokes, ids, codes, text_labels):
        return self.model.loss(images, labels, TextBatch(strokes, ids, codes), text_labels)


class CharTrainer:
    def __init__(self, cfg: TrainConfig):
        from accelerate import Accelerator

        self.cfg = cfg
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        cpu = cfg.device == "cpu" or (cfg.device == "auto" and not torch.cuda.is_available())
        self.acc = Accelerator(cpu=cpu, mixed_precision=cfg.mixed_precision)
        self.dir = Path(cfg.checkpoint_dir)
        seed_everything(cfg.seed)
        self._setup_data()
        self._setup_model()
        self._augmenter = None
        self.history: list[dict[str, Any]] = []
        self.best_val = -1.0
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0

    # ---------------------------------------------------------------- setup
    def _setup_data(self) -> None:
        from hieralign.data.store import GlyphStore

        cfg = self.cfg
        self.store = GlyphStore.open(cfg.data_dir)
        self.plan: ClassPlan = plan_classes(cfg.split, cfg.seen, cfg.val_classes, cfg.seed)
        self.sel = select_images(self.store, self.plan, cfg.limit_samples, cfg.val_max_images, cfg.seed)
        if len(self.sel.train) < cfg.batch_size * self.acc.num_processes:
            raise ValueError(f"{cfg.data_dir}: only {len(self.sel.train)} usable training images under "
                             f"{cfg.split} (dropped: {self.sel.dropped}); need >= one batch")
        class_of = {c: i for i, c in enumerate(self.plan.train_chars)}
        self.label_map = np.array([class_of.get(c, -1) for c in self.store.charset], np.int64)
        self.train_labels = self.label_map[np.asarray(self.store.labels)[self.sel.train]]
        present = np.unique(self.train_labels)
        self.n_classes_present = int(present.size)

    def _setup_model(self) -> None:
        cfg = self.cfg
        preset = cfg.resolved_preset()
        if preset == "standard" and cfg.use_higita:
            raise SystemExit("--preset standard is the HierCode baseline; drop --use-higita or pick lite/balanced/full")
        higita = preset != "standard"  # --use-higita picks balanced; an explicit Hi-GITA preset implies it
        self.tokenizer = DecompositionTokenizer.build(self.plan.train_chars, self.plan.region, higita)
        model_cfg = preset_config(preset, use_higita_enhancement=higita, ids_vocab_size=self.tokenizer.vocab_size,
                                  codebook_size=self.tokenizer.codebook_size)
        if cfg.loss_weights:
            weights = [float(w) for w in cfg.loss_weights.split(",")]
            if len(weights) != 3:
                raise SystemExit(f"--loss-weights wants three numbers stroke,radical,character; got {cfg.loss_weights!r}")
            loss = model_cfg.loss
            loss.weight_stroke, loss.weight_radical, loss.weight_character = weights
        self.model = HierCodeWithHiGITA(model_cfg)
        self.texts = self.tokenizer.encode(self.plan.train_chars)
        self.steps_per_epoch = self._steps_per_epoch()
        optimizer = make_optimizer(self.model, cfg.lr, cfg.weight_decay)
        self.scheduler = make_scheduler(optimizer, cfg.warmup_steps, cfg.epochs * self.steps_per_epoch)
        self.step_module, self.optimizer = self.acc.prepare(LossStep(self.model), optimizer)

    def _steps_per_epoch(self) -> int:
        batches = len(self.sel.train) // (self.cfg.batch_size * self.acc.num_processes)
        return min(batches, self.cfg.max_steps_per_epoch) if self.cfg.max_steps_per_epoch else batches

    # ---------------------------------------------------------------- batches
    def _epoch_batches(self, epoch: int) -> np.ndarray:
        """(steps, batch) store indices for this process; depends only on (seed, epoch)."""
        rng = np.random.default_rng([self.cfg.seed, epoch])
        order = class_chunked_order(self.sel.train, self.train_labels, self.cfg.images_per_class, rng)
        world, rank, b = self.acc.num_processes, self.acc.process_index, self.cfg.batch_size
        order = order[: self.steps_per_epoch * world * b].reshape(self.steps_per_epoch, world, b)
        return order[:, rank]

    def _load_batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = np.sort(idx)
        images = torch.from_numpy(np.asarray(self.store.images[idx])).float().div_(255.0)[:, None]
        labels = torch.from_numpy(self.label_map[np.asarray(self.store.labels[idx])])
        return images, labels

    def _text_classes(self, labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.model.use_higita_enhancement:
            return torch.arange(len(self.plan.train_chars))
        batch = torch.unique(labels)
        extra = self.cfg.text_classes_per_step - len(batch)
        if extra <= 0:
            return batch
        others = torch.ones(len(self.plan.train_chars), dtype=torch.bool)
        others[batch] = False
        pool = others.nonzero().squeeze(1)
        pick = pool[torch.randperm(len(pool), generator=gen)[:extra]]
        return torch.cat([batch, pick])

    # ---------------------------------------------------------------- training
    def _train_step(self, idx: np.ndarray) -> dict[str, float]:
        cfg, world, rank = self.cfg, self.acc.num_processes, self.acc.process_index
        step_seed = (cfg.seed * 1_000_003 + self.global_step) * world + rank
        torch.manual_seed(step_seed)  # dropout and any torch randomness: a function of the step only
        gen = torch.Generator().manual_seed(step_seed)
        images, labels = self._load_batch(idx)
        if cfg.augment:
            images = self._augment(images, gen)
        text_classes = self._text_classes(labels, gen)
        texts = self.texts.select(text_classes)
        device = self.acc.device
        self.step_module.train()
        with self.acc.autocast():
            losses = self.step_module(images.to(device), labels.to(device), texts.strokes.to(device),
                                      texts.ids.to(device), texts.codes.to(device), text_classes.to(device))
        self.optimizer.zero_grad(set_to_none=True)
        self.acc.backward(losses["total"])
        if cfg.grad_clip:
            self.acc.clip_grad_norm_(self.step_module.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.global_step += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def _augment(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self._augmenter is None:
            from hieralign.data.augment import GlyphAugment

            self._augmenter = GlyphAugment()
        return self._augmenter(images, gen)

    def _run_epoch(self, epoch: int, deadline: float | None) -> tuple[dict[str, float], bool]:
        batches = self._epoch_batches(epoch)
        sums: dict[str, float] = {}
        done, start = 0, time.time()
        bar = progress(total=self.steps_per_epoch, initial=self.step_in_epoch, desc=f"epoch {epoch + 1}",
                       disable=None if self.acc.is_main_process else True)
        for step in range(self.step_in_epoch, self.steps_per_epoch):
            losses = self._train_step(batches[step])
            self.step_in_epoch = step + 1
            done += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.update(1)
            if done % self.cfg.log_every == 0 or step + 1 == self.steps_per_epoch:
                rate = done * self.cfg.batch_size * self.acc.num_processes / max(time.time() - start, 1e-9)
                bar.set_postfix({**{k: f"{v / done:.3f}" for k, v in sums.items()}, "glyphs/s": f"{rate:.0f}"})
            if deadline is not None and time.time() > deadline and step + 1 < self.steps_per_epoch:
                bar.close()
                return self._epoch_stats(sums, done, start), True
        bar.close()
        return self._epoch_stats(sums, done, start), False

    def _epoch_stats(self, sums: dict[str, float], done: int, start: float) -> dict[str, float]:
        seconds = time.time() - start
        stats = {f"loss_{k}": v / max(done, 1) for k, v in sums.items()}
        stats["glyphs_per_s"] = done * self.cfg.batch_size * self.acc.num_processes / max(seconds, 1e-9)
        stats["seconds"] = seconds
        stats["steps"] = done
        return stats

    # ---------------------------------------------------------------- validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Zero-shot top-1/top-5 on the held-out validation classes (no augmentation)."""
        if not len(self.sel.val) or not self.plan.val_chars:
            return {}
        model = self.model
        model.eval()
        device = self.acc.device
        class_of = {c: i for i, c in enumerate(self.plan.val_chars)}
        val_map = np.array([class_of.get(c, -1) for c in self.store.charset], np.int64)
        cand = torch.cat([model.encode_text(self.tokenizer.encode(self.plan.val_chars[i:i + 512]).to(device))
                          for i in range(0, len(self.plan.val_chars), 512)])
        hits1 = hits5 = 0
        for start in range(0, len(self.sel.val), 512):
            idx = self.sel.val[start:start + 512]
            images = torch.from_numpy(np.asarray(self.store.images[idx])).float().div_(255.0)[:, None]
            labels = torch.from_numpy(val_map[np.asarray(self.store.labels[idx])]).to(device)
            top = (model.encode_image(images.to(device)) @ cand.t()).topk(min(5, len(cand)), dim=1).indices
            hits1 += int((top[:, 0] == labels).sum())
            hits5 += int((top == labels[:, None]).any(dim=1).sum())
        n = len(self.sel.val)
        return {"val_top1": hits1 / n, "val_top5": hits5 / n, "val_images": n, "val_classes": len(self.plan.val_chars)}

    # ---------------------------------------------------------------- checkpoints
    def meta(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything a loader needs: model config, tokenizer, classes, preprocessing, training args."""
        from hieralign.data.render import RenderConfig

        render = RenderConfig()
        return {
            "model": self.model.config.name, "preset": self.model.config.preset,
            "config": self.model.config.to_dict(), "tokenizer": self.tokenizer.to_meta(),
            "protocol": {"split": self.cfg.split, "seen": len(self.plan.train_chars) + len(self.plan.val_chars)},
            "train_chars": "".join(self.plan.train_chars), "val_chars": "".join(self.plan.val_chars),
            "preprocessing": {"image_size": self.model.config.image.image_size, "margin": render.margin,
                              "ink_threshold": render.ink_threshold, "convention": "uint8 ink 0=paper 255=ink; /255",
                              "normalize": "hieralign.data.render.normalize_glyph"},
            "data": {"store": str(self.cfg.data_dir), "train_images": int(len(self.sel.train)),
                     "val_images": int(len(self.sel.val)), "dropped": self.sel.dropped,
                     "styles": self.store.style_names, "sources": self.store.source_names},
            "training": self.cfg.to_dict(), "epoch": self.epoch, "global_step": self.global_step,
            **(extra or {}),
        }

    def _state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "rng": rng_state(), "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step, "best_val": self.best_val, "history": self.history}

    def _save(self, name: str, extra: dict[str, Any] | None = None) -> None:
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            weights = self.model.state_dict()
            checkpoints.save_pair(self.dir, name, weights, self.meta(extra), self._state())

    def resume(self) -> bool:
        found = checkpoints.find_resume(self.cfg.resume_from, self.dir)
        if found is None:
            return False
        weights, meta, state = checkpoints.load_pair(*found)
        if meta.get("tokenizer", {}).get("hash") != self.tokenizer.hash:
            raise ValueError(f"{found[0]}: trained with another vocabulary/codebook than this run builds "
                             "(different --split/--seen/--val-classes/--seed?); use a fresh --checkpoint-dir")
        self.model.load_state_dict(weights)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self.epoch, self.step_in_epoch = int(state["epoch"]), int(state["step_in_epoch"])
        self.global_step, self.best_val = int(state["global_step"]), float(state["best_val"])
        self.history = list(state["history"])
        self.acc.print(f"resumed from {found[0]} (epoch {self.epoch + 1}, step {self.step_in_epoch})")
        return True

    # ---------------------------------------------------------------- main loop
    def fit(self) -> dict[str, Any]:
        cfg = self.cfg
        self.dir.mkdir(parents=True, exist_ok=True)
        self.resume()
        deadline = time.time() + cfg.max_minutes * 60 if cfg.max_minutes else None
        while self.epoch < cfg.epochs:
            stats, stopped = self._run_epoch(self.epoch, deadline)
            if stopped:
                self._save("interrupted", {"interrupted": True})
                self.acc.print(f"stopped after {cfg.max_minutes} min at epoch {self.epoch + 1} step "
                               f"{self.step_in_epoch}; re-run the same command to continue")
                return {"stopped": True, "epoch": self.epoch, "history": self.history}
            self._end_epoch(stats)
        return {"stopped": False, "epoch": self.epoch, "history": self.history, "best_val": self.best_val}

    def _end_epoch(self, stats: dict[str, float]) -> None:
        record = {"epoch": self.epoch + 1, "lr": self.scheduler.get_last_lr()[0],
                  "logit_scale": float(self.model.logit_scale().detach()), **stats, **self.validate()}
        self.history.append(record)
        improved = record.get("val_top1", 0.0) > self.best_val or not self.plan.val_chars
        self.epoch, self.step_in_epoch = self.epoch + 1, 0
        if improved:
            self.best_val = record.get("val_top1", 0.0)
        name = f"epoch_{self.epoch:03d}"
        self._save(name, {"val_top1": record.get("val_top1")})
        if self.acc.is_main_process:
            if improved:
                src = self.dir / f"{name}.safetensors"
                (self.dir / "best.safetensors").write_bytes(src.read_bytes())
            checkpoints.rotate(self.dir, self.cfg.keep_last)
            write_history(self.dir, self.history)
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
        self.acc.print(f"epoch {self.epoch}: {shown}")

