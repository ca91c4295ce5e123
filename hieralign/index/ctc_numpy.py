"""The exact CTC log-likelihood of given texts under stored per-frame outputs, in numpy.

The same forward (alpha) recursion as `torch.nn.functional.ctc_loss` (tested against it), so
the text->line rerank needs no torch: `hieralign search --text` starts in well under a second
instead of paying torch's import. Vectorised over the candidate lines and the alignment states;
the loop runs over frames only.
"""

from __future__ import annotations

import unicodedata

import numpy as np

BLANK = 0


def encode(text: str, units: str) -> list[int]:
    """Unit ids (1-based, 0 = blank) of the NFC text; characters outside `units` are dropped,
    as `models.line.ctc.Charset.encode` does."""
    index = {c: i + 1 for i, c in enumerate(units)}
    return [index[c] for c in unicodedata.normalize("NFC", text) if c in index]


def ctc_log_likelihood(log_probs: np.ndarray, lengths: np.ndarray, targets: list[list[int]]) -> np.ndarray:
    """log P(targets[b] | frames of line b) for (T, B, V) log-probs and per-line frame counts;
    -inf where the target cannot fit in the frames.

    The forward recursion runs on probabilities rescaled to sum 1 at every frame, keeping the log
    of each scale (Rabiner's scaling), not in the log domain: a frame is then two shifted adds and
    a multiply instead of three `logaddexp`s (exp + log per state): 2x faster on 50 lines of ~860
    frames (355 -> 184 ms), and equal to the log-domain result to float64 rounding."""
    T, B, _ = log_probs.shape
    n = np.asarray([len(t) for t in targets])
    S = 2 * int(n.max(initial=0)) + 1
    ext = np.zeros((B, S), dtype=np.int64)  # blank, u1, blank, u2, ..., blank
    for b, target in enumerate(targets):
        ext[b, 1:2 * len(target):2] = target
    states = np.arange(S)[None, :]
    valid = states < (2 * n + 1)[:, None]
    skip = np.zeros((B, S), dtype=bool)  # s-2 -> s allowed between two different units
    skip[:, 2:] = (states[:, 2:] % 2 == 1) & (ext[:, 2:] != ext[:, :-2])
    probs = np.exp(log_probs.astype(np.float64)).transpose(1, 0, 2)  # (B, T, V): exp once per unit, not per state
    emit = np.take_along_axis(probs, ext[:, None, :], axis=2) * valid[:, None, :]  # (B, T, S)
    lengths = np.asarray(lengths)
    alpha = np.zeros((B, S))
    alpha[:, 0] = emit[:, 0, 0]
    if S > 1:
        alpha[:, 1] = np.where(n > 0, emit[:, 0, 1], 0.0)
    alpha, log_scale = _rescale(alpha, np.zeros(B))
    for t in range(1, T):
        new = alpha.copy()
        new[:, 1:] += alpha[:, :-1]
        new[:, 2:] += np.where(skip[:, 2:], alpha[:, :-2], 0.0)
        new, scale = _rescale(new * emit[:, t], log_scale)
        active = (t < lengths)[:, None]
        alpha, log_scale = np.where(active, new, alpha), np.where(active[:, 0], scale, log_scale)
    rows = np.arange(B)
    end = alpha[rows, 2 * n] + np.where(n > 0, alpha[rows, np.maximum(2 * n - 1, 0)], 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(end) + log_scale
    return np.where(lengths > 0, out, -np.inf)


def _rescale(alpha: np.ndarray, log_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """alpha / its row sum, log_scale + log(row sum); a dead row (sum 0) stays 0 and -inf."""
    total = alpha.sum(axis=1)
    alive = total > 0
    safe = np.where(alive, total, 1.0)
    return alpha / safe[:, None], log_scale + np.where(alive, np.log(safe), -np.inf)
