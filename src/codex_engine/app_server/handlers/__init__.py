"""The app-server's method handlers, one module per method family.

Importing this package fills :data:`~codex_engine.app_server.registry.REGISTRY`. A new family is
a module here, imported below.
"""

from codex_engine.app_server.handlers import accounts, initialize, mcp, models, threads, turns

__all__ = ["accounts", "initialize", "mcp", "models", "threads", "turns"]
