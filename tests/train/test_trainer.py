import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from hieralign.train import char_cli
from hieralign.train.data import class_chunked_order
from hieralign.utils.checkpoint import load_state, load_weights

from .storefix import train_args


def test_class_chunked_order_is_a_seeded_permutation_in_class_runs():
    idx = np.arange(100, 140)
    labels = np.arange(40) % 7
    a = class_chunked_order(idx, labels, 2, np.random.default_rng([0, 1]))
    b = class_chunked_order(idx, labels, 2, np.random.default_rng([0, 1]))
    assert np.array_equal(a, b) and sorted(a.tolist()) == idx.tolist()
    lab = labels[a - 100]
    chunks = sum(-(-c // 2) for c in np.bincount(labels))  # runs of <= 2 images of one class
    switches = int((lab[1:] != lab[:-1]).sum())
    assert switches <= chunks - 1 < 30  # a plain shuffle of 40 images over 7 classes switches ~34 times


def test_training_writes_self_describing_checkpoints_and_history(tiny_store, tmp_path):
    out = tmp_path / "run"
    assert char_cli.main(train_args(tiny_store, out, "--use-higita", "--loss-weights", "0.1,0.2,0.7")) == 0
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert {"loss_total", "loss_character", "loss_stroke", "loss_radical", "lr", "glyphs_per_s"} <= set(history[0])
    weights, meta = load_weights(out / "best.safetensors")
    assert meta["model"] == "higita" and meta["preset"] == "lite"
    loss = meta["config"]["loss"]
    assert (loss["weight_stroke"], loss["weight_radical"], loss["weight_character"]) == (0.1, 0.2, 0.7)
    assert meta["protocol"] == {"split": "etl9g-zs", "seen": 500}
    assert set(meta["train_chars"]).isdisjoint(meta["val_chars"])
    assert meta["data"]["dropped"]["test_only_font"] == 0
    state = load_state(out / "epoch_002.state.pt")  # weights_only load: no pickled code
    assert state["epoch"] == 2 and state["global_step"] == 6
    assert all(torch.isfinite(t).all() for t in weights.values())


def test_store_images_of_unseen_classes_are_never_trained_on(tmp_path, tiny_chars):
    from .storefix import render_store

    seen, unseen = tiny_chars
    store = render_store(tmp_path / "mixed", seen[:12] + unseen[:4], shifts=(0,))
    from hieralign.train.data import plan_classes, select_images

    plan = plan_classes("etl9g-zs", 500, 20, 0)
    sel = select_images(store, plan)
    trained = {store.char(i) for i in sel.train}
    assert trained.isdisjoint(unseen) and sel.dropped["unseen_or_reserved_class"] == 4 * (len(store) // 16)
    assert trained.isdisjoint(plan.val_chars)


def _run(args, env):
    return subprocess.Popen([sys.executable, "-m", "hieralign.cli", "train", "char", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_and_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_store, tmp_path):
    env = {**os.environ, "HIERALIGN_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}
    extra = ("--use-higita", "--epochs", "3")
    straight = _run(train_args(tiny_store, tmp_path / "a", *extra), env)
    assert straight.wait(timeout=300) == 0, straight.stderr.read().decode()[-2000:]

    killed = _run(train_args(tiny_store, tmp_path / "b", *extra), env)
    first = tmp_path / "b" / "epoch_001.safetensors"
    deadline = time.time() + 300
    while not first.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "run finished before it could be killed"
    assert not (tmp_path / "b" / "epoch_003.safetensors").exists()

    resumed = _run(train_args(tiny_store, tmp_path / "b", *extra), env)  # same command, same dir
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    a, _ = load_weights(tmp_path / "a" / "epoch_003.safetensors")
    b, _ = load_weights(tmp_path / "b" / "epoch_003.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_store_and_model_size_mismatch_is_one_line_and_exit_2_before_any_step(tmp_path, tiny_chars, capsys):
    from hieralign.cli import main as cli_main
    from hieralign.data.store import GlyphStoreWriter

    seen, _ = tiny_chars
    rng = np.random.default_rng(0)
    with GlyphStoreWriter(tmp_path / "s48", seen, size=48) as writer:
        writer.append(rng.integers(0, 255, (len(seen), 48, 48), dtype=np.uint8), seen, style="printed", source="x")
    for model in (["--preset", "standard"], ["--use-higita", "--preset", "lite"]):
        code = cli_main(["train", "char", "--data", str(tmp_path / "s48"), "--out", str(tmp_path / "run"),
                         "--seen", "500", "--val-classes", "0", "--batch-size", "4", *model])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and "48 px" in err and "64 px" in err, err
        assert not list((tmp_path / "run").glob("*.safetensors"))


def test_checkpoint_records_the_store_preprocessing(tiny_store, tmp_path):
    out = tmp_path / "run"
    assert char_cli.main(train_args(tiny_store, out, "--epochs", "1")) == 0
    _, meta = load_weights(out / "best.safetensors")
    assert meta["preprocessing"]["image_size"] == 64 and meta["preprocessing"]["margin"] == 4
    assert meta["preprocessing"]["ink_threshold"] == 32 and meta["preprocessing"]["polarity"] == "ink=255"


def test_validation_scores_through_the_candidate_builder_with_and_without_glyphs(tmp_path, tiny_chars):
    """HierCode with the image<->image term on; validation reports decomposition-only and, with
    --val-glyphs, reference-glyph scores from the one zero-shot core (same numbers as calling it)."""
    from hieralign.knowledge import protocols
    from hieralign.models.char.candidates import build_candidates
    from hieralign.models.char.zeroshot import TorchCharEncoder, ZeroShotClassifier, top_k
    from hieralign.train.char_task import CharTask

    from .storefix import SEEN_M, render_store

    seen, _ = protocols.split("etl9g-zs", SEEN_M)
    _, val = protocols.validation_split(seen, 20, 0)  # the classes the run holds out (seed 0)
    store = render_store(tmp_path / "store", list(dict.fromkeys(tiny_chars[0] + val)), shifts=(0, 2))
    out = tmp_path / "run"
    args = train_args(store, out, "--preset", "standard", "--val-glyphs", "--image-loss-weight", "0.5")
    assert char_cli.main(args) == 0
    history = json.loads((out / "history.json").read_text())
    last = history[-1]
    assert {"val_top1", "val_glyphs_top1", "loss_image"} <= set(last)
    assert last["loss_image"] > 0
    task = CharTask(*char_cli.parse_config(args))
    task.net.load_state_dict(load_weights(out / "best.safetensors")[0])
    metrics = task.validate(task.model)
    enc = TorchCharEncoder(task.net, task.tokenizer, task._encoder_meta())
    matrix = build_candidates(enc, task.plan.val_chars, "decomposition", use_disk=False)
    images = np.asarray(task.store.images[task.sel.val], np.float32)[:, None] / 255.0
    scores = ZeroShotClassifier(enc, {}).scores(enc.encode_images(images), matrix, "decomposition")[0]
    labels = np.array([task.plan.val_chars.index(task.store.charset[i]) for i in task.store.labels[task.sel.val]])
    assert metrics["val_top1"] == pytest.approx(float((top_k(scores, 1)[:, 0] == labels).mean()))


def test_hiercode_sparse_codes_give_the_dense_loss(tiny_store, monkeypatch):
    """A wide vocabulary keeps the class codes sparse: same loss and gradient as dense."""
    from hieralign.train import char_task

    args = train_args(tiny_store, "unused", "--preset", "standard", "--no-augment")
    dense = char_task.CharTask(*char_cli.parse_config(args))
    monkeypatch.setattr(char_task, "SPARSE_CODES_ABOVE", 0)
    sparse = char_task.CharTask(*char_cli.parse_config(args))
    assert sparse.texts.codes.is_sparse and not dense.texts.codes.is_sparse
    batch = dense.batch(0, 0, 0, 1)
    out = [task.training_forward(task.model, batch, torch.Generator().manual_seed(0))["total"] for task in (dense, sparse)]
    assert torch.allclose(out[0], out[1], atol=1e-5)
    for o in out:
        o.backward()
    assert torch.allclose(dense.net.text_encoder.codebook.grad, sparse.net.text_encoder.codebook.grad, atol=1e-6)


def test_higita_memory_bank_scores_every_training_class(tiny_store):
    """With --text-bank-every the character loss has a column for every training class, and the
    bank is refreshed on the schedule (not every step)."""
    args = train_args(tiny_store, "unused", "--use-higita", "--text-bank-every", "2", "--no-augment",
                      "--text-classes-per-step", "0")
    from hieralign.train.char_task import CharTask

    task = CharTask(*char_cli.parse_config(args))
    g = torch.Generator().manual_seed(0)
    task.training_forward(task.model, task.batch(0, 0, 0, 1), g)
    first = task._bank
    assert first is not None and first[1].shape == (len(task.plan.train_chars), task.net.config.embed_dim)
    task.training_forward(task.model, task.batch(0, 1, 0, 1), g)
    assert task._bank is first  # step 1: same bank
    task.training_forward(task.model, task.batch(0, 2, 0, 1), g)
    assert task._bank is not first and task._bank[0] == 2
    # the bank changes the loss: classes absent from the batch now count as negatives
    plain = CharTask(*char_cli.parse_config(train_args(tiny_store, "unused", "--use-higita", "--no-augment")))
    batch = task.batch(0, 0, 0, 1)
    with_bank = task.training_forward(task.model, batch, torch.Generator().manual_seed(0))["character"]
    without = plain.training_forward(plain.model, batch, torch.Generator().manual_seed(0))["character"]
    assert float(with_bank) > float(without)
