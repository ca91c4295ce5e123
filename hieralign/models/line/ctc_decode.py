"""Decoding CTC outputs: greedy, prefix beam search with an optional syllable lexicon, and the
exact log-likelihood of given texts (for reranking retrieval candidates).

All functions take log-probabilities shaped (T, B, V) as `LineRecognizer` returns them, with
per-line frame counts, and a `Charset` to map unit ids to text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from hieralign.knowledge.tibetan import SHAD, TSHEG
from hieralign.models.line.ctc import BLANK, Charset

SYLLABLE_END = frozenset({TSHEG, "\u0f0c", SHAD, "\u0f0e", " "})  # what closes a Tibetan syllable


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, charset: Charset) -> list[tuple[str, float]]:
    """Best path per line: argmax per frame, merge repeats, drop blanks. Score = mean per-frame
    log-probability of that path (0 = certain; comparable across line lengths)."""
    best, ids = log_probs.max(-1)  # (T, B)
    out = []
    for b, n in enumerate(lengths.tolist()):
        path = ids[:n, b].tolist()
        units = [u for i, u in enumerate(path) if u != BLANK and (i == 0 or u != path[i - 1])]
        out.append((charset.decode(units), float(best[:n, b].sum()) / max(n, 1)))
    return out


@dataclass
class Lexicon:
    """Syllables a decoded line should be made of, and how strongly to prefer them."""

    syllables: frozenset[str]  # known syllables (e.g. `knowledge.tibetan.syllable_lexicon()`)
    bonus: float = 1.0  # log-score added for a known syllable, subtracted for an unknown one

    def score(self, syllable: str) -> float:
        return self.bonus if syllable in self.syllables else -self.bonus if syllable else 0.0


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def _last_syllable(text: str) -> str:
    cut = max((text.rfind(c) for c in SYLLABLE_END), default=-1)
    return text[cut + 1:]


def beam_decode_one(log_probs: np.ndarray, charset: Charset, beam: int = 8, lexicon: Lexicon | None = None,
                    prune: float = -8.0) -> tuple[str, float]:
    """Prefix beam search over one line's (T, V) log-probabilities. Units below `prune` (log-prob)
    in a frame are skipped, which keeps Python-speed search fast. With a lexicon, each syllable
    gets the lexicon's bonus when it closes (and the last one at the end). Returns (text, score)
    with score = the prefix's CTC log-probability (+ lexicon terms) per frame."""
    T = log_probs.shape[0]
    beams: dict[tuple[int, ...], tuple[float, float, float]] = {(): (0.0, -math.inf, 0.0)}  # blank, non-blank, lex
    for t in range(T):
        frame = log_probs[t]
        candidates = np.nonzero(frame > prune)[0].tolist() or [int(frame.argmax())]
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_b, p_nb, lex) in beams.items():
            total = _logsumexp(p_b, p_nb)
            for u in candidates:
                lp = float(frame[u])
                if u == BLANK:
                    entry = nxt.setdefault(prefix, [-math.inf, -math.inf, lex])
                    entry[0] = _logsumexp(entry[0], total + lp)
                    continue
                last = prefix[-1] if prefix else None
                extended = (*prefix, u)
                add_lex = lex
                if lexicon is not None and charset.units[u - 1] in SYLLABLE_END:
                    add_lex += lexicon.score(_last_syllable(charset.decode(list(prefix))))
                entry = nxt.setdefault(extended, [-math.inf, -math.inf, add_lex])
                entry[1] = _logsumexp(entry[1], (p_b if u == last else total) + lp)
                if u == last:  # repeated unit without a blank between: stays the same prefix
                    same = nxt.setdefault(prefix, [-math.inf, -math.inf, lex])
                    same[1] = _logsumexp(same[1], p_nb + lp)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(kv[1][0], kv[1][1]) + kv[1][2], reverse=True)
        beams = {k: (v[0], v[1], v[2]) for k, v in ranked[:beam]}
    def final(item: tuple[tuple[int, ...], tuple[float, float, float]]) -> float:
        prefix, (p_b, p_nb, lex) = item
        tail = lexicon.score(_last_syllable(charset.decode(list(prefix)))) if lexicon else 0.0
        return _logsumexp(p_b, p_nb) + lex + tail
    prefix, value = max(((k, final((k, v))) for k, v in beams.items()), key=lambda kv: kv[1])
    return charset.decode(list(prefix)), value / max(T, 1)


def beam_decode(log_probs: torch.Tensor, lengths: torch.Tensor, charset: Charset, beam: int = 8,
                lexicon: Lexicon | None = None) -> list[tuple[str, float]]:
    """`beam_decode_one` for every line of a batch."""
    lp = log_probs.detach().float().cpu().numpy()
    return [beam_decode_one(lp[:n, b], charset, beam, lexicon) for b, n in enumerate(lengths.tolist())]


def ctc_log_likelihood(log_probs: torch.Tensor, lengths: torch.Tensor, texts: Iterable[str],
                       charset: Charset) -> torch.Tensor:
    """log P(text_b | line_b) for each b, summed over all alignments (exact, batched): the
    reranking score of a query text under a candidate line. -inf where the text cannot fit
    (more units than frames allow)."""
    targets = [charset.encode(t) for t in texts]
    target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    flat = torch.tensor([u for t in targets for u in t], dtype=torch.long)
    nll = F.ctc_loss(log_probs.float(), flat, lengths.long().cpu(), target_lengths, blank=BLANK,
                     reduction="none", zero_infinity=False)
    return -nll
