"""codex-engine: the core of the Codex coding agent in Python."""

from codex_engine._version import __version__
from codex_engine.errors import CodexError

__all__ = ["CodexError", "__version__"]
