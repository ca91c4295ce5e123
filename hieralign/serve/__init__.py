"""HTTP API + workbench page for the character recogniser and the line searcher.

Public API: `ServeConfig` (hieralign.serve.config), `create_app(cfg, char=None, line=None)`
(hieralign.serve.app), `CharService` / `LineService` (hieralign.serve.backends), `MicroBatcher`
(hieralign.serve.batching), `LiveServer` (hieralign.testing.live, uvicorn in a thread), the
bad-input catalogue (hieralign.testing.badinput), tiny smoke-test models (hieralign.testing.tiny).
CLI: `hieralign serve`. Docs: docs/API.md.
"""

from hieralign.serve.config import ServeConfig

__all__ = ["ServeConfig"]
