"""Errors a user can fix: the `hieralign` command prints them as one line and exits 2.

Library code raises `UserError` (a `ValueError`, so callers that catch ValueError keep working)
for problems in what the user gave it: a file of the wrong format, an empty dataset, a missing
model. A plain ValueError still ends in a traceback, on purpose: it is a bug until shown
otherwise, and hiding it behind one line would hide where it happened.
"""

from __future__ import annotations


class UserError(ValueError):
    """A problem with the user's input, files or settings; the message says what to change."""


class EmptyDatasetError(UserError):
    """A dataset (store, import, manifest) that holds nothing to work on."""
