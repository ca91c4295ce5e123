"""Issue 12 finding 10: one permission rule for every written file (what open() gives under the umask)."""

import os
import stat

import numpy as np

from hieralign.utils import io


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writers_give_files_the_mode_open_gives(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    io.atomic_write_json(tmp_path / "a.json", {"a": 1})
    io.atomic_write_bytes(tmp_path / "b.bin", b"x")
    io.atomic_save(tmp_path / "c.npy", lambda tmp: np.save(open(tmp, "wb"), np.zeros(3)))
    expected = _mode(plain)
    assert expected == io.file_mode() and expected != 0o600
    assert {_mode(tmp_path / n) for n in ("a.json", "b.bin", "c.npy")} == {expected}


def test_checkpoint_weights_follow_the_same_rule(tmp_path):
    import torch

    from hieralign.utils.checkpoint import save_weights

    save_weights(tmp_path / "w.safetensors", {"w": torch.zeros(2)}, {"model": "x"})
    assert _mode(tmp_path / "w.safetensors") == io.file_mode()


def test_file_mode_honours_the_umask():
    assert io.file_mode() == 0o666 & ~_current_umask()


def _current_umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old
