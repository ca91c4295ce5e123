import json

import numpy as np
import pytest
import torch

from hieralign.data.loader import GlyphBatches, GlyphDataset, to_float
from hieralign.data.store import GlyphStore, GlyphStoreWriter

CHARSET = list("一二三四五")


def _images(n, size=16, start=0):
    return np.stack([np.full((size, size), (start + i) % 256, np.uint8) for i in range(n)])


def test_round_trip_and_growth(tmp_path):
    out = tmp_path / "store"
    with GlyphStoreWriter(out, CHARSET, size=16, capacity=2, meta={"split": "demo"}) as w:
        w.append(_images(3), [0, 1, 2], "printed", "IPA Gothic/Regular")
        w.append(_images(2, start=3), list("四五"), "handwriting", ["synth", "synth"])
    store = GlyphStore.open(out)
    assert len(store) == 5 and store.charset == CHARSET
    img, label = store[3]
    assert img.shape == (16, 16) and img[0, 0] == 3 and label == 3
    assert store.char(4) == "五"
    assert store.meta["split"] == "demo" and store.meta["counts_by_style"] == {"printed": 3, "handwriting": 2}
    assert store.style_names == ["printed", "handwriting"]
    assert list(store.indices_for(chars="一五")) == [0, 4]
    assert list(store.indices_for(styles=["handwriting"])) == [3, 4]
    assert (out / "images.u8").stat().st_size == 5 * 16 * 16


def test_failed_build_leaves_no_store(tmp_path):
    out = tmp_path / "store"
    with pytest.raises(RuntimeError):
        with GlyphStoreWriter(out, CHARSET, size=8) as w:
            w.append(_images(2, size=8), [0, 1], "printed", "x")
            raise RuntimeError("killed")
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # the partial directory is gone too


def test_incomplete_or_damaged_store_is_refused(tmp_path):
    out = tmp_path / "store"
    with GlyphStoreWriter(out, CHARSET, size=8) as w:
        w.append(_images(2, size=8), [0, 1], "printed", "x")
    meta = json.loads((out / "meta.json").read_text())
    with open(out / "images.u8", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="damaged"):
        GlyphStore.open(out)
    meta["complete"] = False
    (out / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not a complete"):
        GlyphStore.open(out)
    with pytest.raises(FileNotFoundError):
        GlyphStore.open(tmp_path / "nothing")


def test_existing_store_needs_overwrite(tmp_path):
    out = tmp_path / "store"
    with GlyphStoreWriter(out, CHARSET, size=8) as w:
        w.append(_images(1, size=8), [0], "printed", "x")
    with pytest.raises(FileExistsError):
        GlyphStoreWriter(out, CHARSET, size=8)
    with GlyphStoreWriter(out, CHARSET, size=8, overwrite=True) as w:
        w.append(_images(2, size=8), [1, 2], "printed", "x")
    assert len(GlyphStore.open(out)) == 2


def test_bad_labels_are_rejected(tmp_path):
    w = GlyphStoreWriter(tmp_path / "s", CHARSET, size=8)
    with pytest.raises(KeyError, match="漢"):
        w.append(_images(1, size=8), ["漢"], "printed", "x")
    with pytest.raises(ValueError, match="out of range"):
        w.append(_images(1, size=8), [7], "printed", "x")
    w.abort()


@pytest.mark.parametrize("prefetch", [0, 2])
def test_batches_cover_every_index_once_and_match_labels(tmp_path, prefetch):
    out = tmp_path / "store"
    n = 103
    labels = np.arange(n) % 5
    with GlyphStoreWriter(out, CHARSET, size=8) as w:
        w.append(_images(n, size=8), labels, "printed", "x")
    store = GlyphStore.open(out)
    batches = GlyphBatches(store, batch_size=16, shuffle=True, seed=1, prefetch=prefetch)
    seen = []
    for images, lab in batches:
        assert images.dtype == torch.uint8 and images.shape[1:] == (1, 8, 8)
        # image i was filled with value i, so the label of each image is value % 5
        assert torch.equal(images[:, 0, 0, 0].long() % 5, lab)
        seen += images[:, 0, 0, 0].tolist()
    assert sorted(seen) == list(range(n)) and len(batches) == 7
    first = [b[1].tolist() for b in batches]
    assert first == [b[1].tolist() for b in batches]  # same epoch -> same order
    batches.set_epoch(1)
    assert first != [b[1].tolist() for b in batches]
    ds = GlyphDataset(store, indices=[5, 6])
    x, y = ds[1]
    assert x.shape == (1, 8, 8) and y == 1
    assert to_float(x).max() <= 1.0


def test_stale_partial_from_a_dead_process_is_removed(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(proc.stdout)
    stale = tmp_path / f".store.partial-{dead_pid}"
    stale.mkdir()
    (stale / "images.u8").write_bytes(b"x")
    with GlyphStoreWriter(tmp_path / "store", CHARSET, size=8) as w:
        w.append(_images(1, size=8), [0], "printed", "x")
    assert not stale.exists() and len(GlyphStore.open(tmp_path / "store")) == 1
