"""The one training engine: exact resume, damaged checkpoints, partial files, a rank-safe time budget."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from hieralign.train.engine import EngineConfig, fit
from hieralign.utils.checkpoint import load_weights

from .linear_task import LinearTask


def _cfg(out, **kw):
    base = dict(out=str(out), epochs=3, batch_size=8, lr=1e-2, warmup_steps=2, keep_last=3, num_threads=1,
                device="cpu", log_every=4)
    return EngineConfig(**{**base, **kw})


def _weights(path):
    return load_weights(path)[0]


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    result = fit(LinearTask(), _cfg(out))
    assert not result.stopped and result.global_step == 24 and result.epoch == 3
    return out


def test_checkpoints_rotate_and_history_is_written(straight, tmp_path):
    fit(LinearTask(), _cfg(tmp_path, keep_last=1))
    assert sorted(p.name for p in tmp_path.glob("*.state.pt")) == ["epoch_003.state.pt"]
    assert (tmp_path / "best.safetensors").is_file() and (tmp_path / "final.safetensors").is_file()
    assert (tmp_path / "history.json").is_file() and (tmp_path / "train_log.jsonl").is_file()


@pytest.mark.parametrize("damage", ["weights", "state", "both-and-latest"])
def test_resume_skips_a_damaged_newest_checkpoint_and_removes_partial_files(straight, tmp_path, capfd, damage):
    fit(LinearTask(), _cfg(tmp_path))
    if damage in ("weights", "both-and-latest"):
        (tmp_path / "epoch_003.safetensors").write_bytes(b"\x00" * 40)
    if damage in ("state", "both-and-latest"):
        state = tmp_path / "epoch_003.state.pt"
        state.write_bytes(state.read_bytes()[:100])
    if damage == "both-and-latest":
        (tmp_path / "latest.json").write_text("{not json")
    partial = tmp_path / ".epoch_004.safetensors.abc123.tmp"  # what a SIGKILL mid-write leaves
    partial.write_bytes(b"half a file")
    capfd.readouterr()
    result = fit(LinearTask(), _cfg(tmp_path))  # the same command again
    err = capfd.readouterr().err
    assert "damaged" in err and "epoch_002" in err and "removed 1 partial file" in err
    assert not partial.exists()
    assert result.global_step == 24
    # resumed from epoch 2 and replayed epoch 3 exactly
    assert _same(_weights(tmp_path / "epoch_003.safetensors"), _weights(straight / "epoch_003.safetensors"))


def test_no_intact_checkpoint_is_a_clear_error(tmp_path):
    fit(LinearTask(), _cfg(tmp_path, epochs=1))
    (tmp_path / "epoch_001.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="no intact checkpoint"):
        fit(LinearTask(), _cfg(tmp_path, epochs=1))


def test_resume_none_starts_fresh_and_step_limit_stops_mid_epoch(tmp_path):
    result = fit(LinearTask(), _cfg(tmp_path, max_steps=5, resume_from="none"))
    assert result.global_step == 5 and (tmp_path / "step_0000005.state.pt").is_file()


WORKER = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[2])
    from linear_task import LinearTask
    from hieralign.train.engine import EngineConfig, fit

    out, rank = sys.argv[1], int(sys.argv[3])
    cfg = EngineConfig(out=out, epochs=50, batch_size=4, lr=1e-2, warmup_steps=1, num_threads=1, device="cpu",
                       max_minutes=0.02)
    result = fit(LinearTask(items=64, batch_size=4, slow_rank=1), cfg)
    print("RESULT", rank, result.stopped, result.global_step)
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_time_budget_stops_every_rank_at_the_same_step(tmp_path):
    """Rank 1 is slow; a per-rank deadline would stop the ranks at different steps and hang DDP."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port, here = _free_port(), str(Path(__file__).parent)
    procs = []
    for rank in range(2):
        env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
        env.update(OMP_NUM_THREADS="1", RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), HIERALIGN_NO_PROGRESS="1")
        procs.append(subprocess.Popen([sys.executable, str(script), str(tmp_path / "run"), here, str(rank)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    outputs = []
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=240)[0].decode(errors="replace"))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a rank hung after the time budget ran out")
        assert p.returncode == 0, outputs[-1][-3000:]
    results = [line.split()[1:] for out in outputs for line in out.splitlines() if line.startswith("RESULT")]
    assert len(results) == 2 and results[0][1] == results[1][1] == "True"
    assert results[0][2] == results[1][2] and 0 < int(results[0][2]) < 50 * 8
    assert list((tmp_path / "run").glob("*.state.pt"))  # a resumable checkpoint of the stop
