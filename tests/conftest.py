"""Shared test setup: quiet progress bars, deterministic threads, a per-session cache dir."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HIERALIGN_NO_PROGRESS", "1")


@pytest.fixture(autouse=True, scope="session")
def _limit_threads():
    import torch

    # Two cores on CI: oversubscription makes every test slower, not faster.
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield
