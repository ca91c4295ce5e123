import pytest

from hieralign.knowledge import protocols

from .storefix import render_store

SEEN_M = 500


@pytest.fixture(scope="session")
def tiny_chars():
    """24 seen kanji to train on and 12 unseen kanji for zero-shot (ETL9G-ZS, m=500)."""
    seen, unseen = protocols.split("etl9g-zs", SEEN_M)
    return seen[71:95], unseen[:12]


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory, tiny_chars):
    seen, _ = tiny_chars
    return render_store(tmp_path_factory.mktemp("store") / "train", seen)


def train_args(store, out, *extra):
    return ["--data-dir", str(store.path), "--checkpoint-dir", str(out), "--seen", str(SEEN_M),
            "--val-classes", "20", "--batch-size", "32", "--max-steps-per-epoch", "3", "--num-threads", "1",
            "--epochs", "2", "--preset", "lite", "--lr", "3e-3", *extra]
