"""Candidate sets a request may ask for, and the bounded cache of their embedding matrices.

On the command line `--candidates` may name a file; over HTTP it never may: a request's
`candidates` is a charset *name* (or a comma list of names), a string of characters, or a list of
characters. Anything else is "unknown candidate set", with the same answer whether or not a file
of that name exists on the server, so a client learns nothing about the server's files.
"""

from __future__ import annotations

from typing import Any

from hieralign.serve.limits import InputError

SET_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-,")


def known_set_names() -> tuple[str, ...]:
    from hieralign.knowledge.charsets import CHARSET_NAMES, PROTOCOL_CHARSET_NAMES

    return (*CHARSET_NAMES, *PROTOCOL_CHARSET_NAMES, "all")


def request_candidates(value: Any, max_candidates: int) -> list[str] | None:
    """A request's `candidates` -> ordered, duplicate-free characters (None = server default)."""
    if value in (None, ""):
        return None
    if isinstance(value, list):
        if not value or not all(isinstance(c, str) and len(c) == 1 for c in value):
            raise InputError(400, "candidates: a list must hold single characters")
        chars = list(dict.fromkeys(value))
    elif set(str(value)) <= SET_NAME_CHARS:
        return named_sets(str(value))
    else:
        chars = [c for c in dict.fromkeys(str(value)) if not c.isspace()]
    if len(chars) > max_candidates:
        raise InputError(413, f"candidates: {len(chars)} characters, the limit is {max_candidates} "
                              f"(server --max-candidates); name a charset instead")
    return chars


def named_sets(spec: str) -> list[str]:
    """'etl9g' or 'kana,jis1' -> characters; never a path (see module docstring)."""
    from hieralign.knowledge.charsets import charset

    names = [p.strip() for p in spec.split(",") if p.strip()]
    known = known_set_names()
    unknown = [n for n in names if n.lower() not in known]
    if unknown or not names:
        raise InputError(400, f"candidates: unknown candidate set {(unknown or [spec])[0][:40]!r}; known: "
                              f"{', '.join(known)}, or send the characters themselves")
    chars: list[str] = []
    for name in (n.lower() for n in names):
        if name == "all":
            from hieralign.knowledge.ids import IDSDatabase

            chars.extend(IDSDatabase.load().chars())
        else:
            chars.extend(charset(name))
    return list(dict.fromkeys(chars))


def bound_candidate_cache(recognizer: Any, max_bytes: int) -> bool:
    """Replace a recogniser's candidate-matrix dict with a byte-bounded LRU (True when it had one).

    Both recognisers share the zero-shot core, which keeps its `CandidateMatrix` objects in
    `_matrices` (sized by `CandidateMatrix.nbytes`, folded matrices included); in a long-running
    server any client can add an entry. (`_cache`: the name older recognisers used.)
    """
    from hieralign.utils.lru import ByteLRU

    for attr in ("_matrices", "_cache"):
        cache = getattr(recognizer, attr, None)
        if isinstance(cache, dict | ByteLRU):  # a ByteLRU: a second app around the same model re-bounds it
            bounded = ByteLRU(max_bytes)
            for key, value in cache.items():
                bounded[key] = value
            setattr(recognizer, attr, bounded)
            return True
    return False
