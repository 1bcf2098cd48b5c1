"""The app-server: JSON-RPC over stdio that drives sessions for IDEs and the official SDKs.

A method is declared once, ``@method("thread/start", ThreadStartParams)``, in its family's module
under ``handlers/``; ``registry.py`` validates params, dispatches and maps errors to codes.
"""

from codex_engine.app_server.connection import Connection, ConnectionClosedError
from codex_engine.app_server.server import AppServer, ServerOptions
from codex_engine.app_server.stdio import serve_stdio

__all__ = ["AppServer", "Connection", "ConnectionClosedError", "ServerOptions", "serve_stdio"]
