"""Training history (one record per validation/checkpoint point): history.json, and curves.png when matplotlib is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hieralign.utils.io import atomic_path, atomic_write_json


def write_history(directory: Path, history: list[dict[str, Any]]) -> None:
    atomic_write_json(directory / "history.json", history)
    try:
        plot_history(directory / "curves.png", history)
    except ImportError:
        pass  # matplotlib is in the [train] extra; the JSON is the record


def plot_history(path: Path, history: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key in sorted({k for h in history for k in h if k.startswith("loss_")}):
        ax_loss.plot(epochs, [h.get(key) for h in history], marker="o", label=key[5:])
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss components")
    ax_loss.legend()
    for key in ("val_top1", "val_top5", "val_i2t_r1", "val_t2i_r1"):
        if any(key in h for h in history):
            ax_acc.plot(epochs, [h.get(key) for h in history], marker="o", label=key)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title="validation (no augmentation)")
    if ax_acc.lines:
        ax_acc.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
