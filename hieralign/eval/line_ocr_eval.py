"""Evaluation of line transcription: CER/WER per style and per face, and text->line retrieval
(R@1/5/10, MRR) for any search function.

Retrieval follows DESIGN §4: every distinct normalised reference text is one query; lines with
that same normalised text are all correct targets, and the rank is that of the first one. The
search function is passed in (e.g. `index.transcripts.HybridSearcher.search`), so this layer
never imports the index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from hieralign.data.lines.manifest import normalize_text
from hieralign.utils.text_metrics import error_rates

SearchFn = Callable[[str, int], Sequence[int]]  # (query, k) -> line ids, best first


def grouped_error_rates(references: Sequence[str], hypotheses: Sequence[str],
                        groups: dict[str, Sequence[str]]) -> dict[str, dict]:
    """{"all": rates, "<group>=<value>": rates, ...}; `groups` maps a name to one label per line."""
    out = {"all": {**error_rates(references, hypotheses), "lines": len(references)}}
    for name, labels in groups.items():
        members: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            members[label].append(i)
        for label, idx in sorted(members.items()):
            rates = error_rates([references[i] for i in idx], [hypotheses[i] for i in idx])
            out[f"{name}={label}"] = {**rates, "lines": len(idx)}
    return out


def query_ranks(references: Sequence[str], search: SearchFn, k: int = 10) -> dict[str, int]:
    """Rank (1-based; 0 = not in the top k) of the first correct line for each distinct text."""
    targets: dict[str, set[int]] = defaultdict(set)
    for i, text in enumerate(references):
        targets[normalize_text(text)].add(i)
    ranks = {}
    for query, lines in targets.items():
        found = list(search(query, k))
        ranks[query] = next((r + 1 for r, line in enumerate(found) if line in lines), 0)
    return ranks


def summarize(ranks: Sequence[int], ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    n = max(len(ranks), 1)
    out = {f"R@{k}": sum(0 < r <= k for r in ranks) / n for k in ks}
    out["MRR"] = sum(1.0 / r for r in ranks if r > 0) / n
    out["queries"] = float(len(ranks))
    return out


def retrieval_report(references: Sequence[str], search: SearchFn, groups: dict[str, Sequence[str]],
                     k: int = 10) -> dict[str, dict]:
    """R@k/MRR over all queries and per group label (a query's label = its first line's)."""
    ranks = query_ranks(references, search, k)
    first_line: dict[str, int] = {}
    for i, text in enumerate(references):
        first_line.setdefault(normalize_text(text), i)
    out = {"all": summarize(list(ranks.values()))}
    for name, labels in groups.items():
        per: dict[str, list[int]] = defaultdict(list)
        for query, rank in ranks.items():
            per[labels[first_line[query]]].append(rank)
        for label, values in sorted(per.items()):
            out[f"{name}={label}"] = summarize(values)
    return out
