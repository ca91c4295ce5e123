"""Progress bars that stay quiet in CI logs unless asked for."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, *, desc: str = "", total: int | None = None,
             disable: bool | None = None, **kwargs: Any):
    """A tqdm bar; disabled when HIERALIGN_NO_PROGRESS=1 or stderr is not a terminal in CI."""
    from tqdm.auto import tqdm

    if disable is None:
        disable = os.environ.get("HIERALIGN_NO_PROGRESS") == "1" or (
            os.environ.get("CI") == "true" and not sys.stderr.isatty()
        )
    return tqdm(iterable, desc=desc, total=total, disable=disable, dynamic_ncols=True, **kwargs)
