import os
import pickle

import pytest
import torch

from hieralign.utils.checkpoint import load_state, load_weights, read_meta, save_state, save_weights
from hieralign.utils.io import atomic_write_json
from hieralign.utils.seed import rng_state, seed_everything, set_rng_state


def test_weights_round_trip_with_meta(tmp_path):
    lin = torch.nn.Linear(3, 2)
    path = tmp_path / "m.safetensors"
    save_weights(path, lin.state_dict(), {"model": "linear", "config": {"in": 3}})
    state, meta = load_weights(path)
    assert meta == {"model": "linear", "config": {"in": 3}}
    assert torch.equal(state["weight"], lin.weight.detach())
    assert read_meta(path)["model"] == "linear"


def test_tied_weights_are_saved(tmp_path):
    emb = torch.nn.Embedding(4, 2)
    state = {"a": emb.weight, "b": emb.weight}  # shared storage, as in tied heads
    save_weights(tmp_path / "t.safetensors", state, {})
    loaded, _ = load_weights(tmp_path / "t.safetensors")
    assert torch.equal(loaded["a"], loaded["b"])


def test_corrupt_checkpoint_names_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_weights(bad)


def test_state_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(Exception):  # noqa: B017 - any refusal is fine, execution is not
        load_state(path)


def test_state_round_trip_includes_rng(tmp_path):
    seed_everything(3)
    save_state(tmp_path / "s.pt", {"step": 7, "rng": rng_state()})
    expected = torch.rand(4)
    seed_everything(99)
    state = load_state(tmp_path / "s.pt")
    set_rng_state(state["rng"])
    assert state["step"] == 7
    assert torch.equal(torch.rand(4), expected)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"k": [1, 2]})
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
