"""HTTP API + workbench page for the character recogniser and the line searcher.

Public API: `ServeConfig`, `create_app(cfg, char=None, line=None)` (in `hieralign.serve.app`),
`CharService` / `LineService` (in `hieralign.serve.backends`); CLI: `hieralign serve`.
"""

from hieralign.serve.config import ServeConfig

__all__ = ["ServeConfig"]
