"""HTTP API + workbench page for the character recogniser and the line searcher.

Public API: `ServeConfig` (hieralign.serve.config), `create_app(cfg, char=None, line=None)`
(hieralign.serve.app), `CharService` / `LineService` (hieralign.serve.backends), `MicroBatcher`
(hieralign.serve.batching). Test support (a live loopback server, the bad-input catalogue,
tiny smoke-test models) lives in `hieralign.testing`.
CLI: `hieralign serve`. Docs: docs/API.md.
"""

from hieralign.serve.config import ServeConfig

__all__ = ["ServeConfig"]
