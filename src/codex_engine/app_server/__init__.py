"""The app-server: JSON-RPC over stdio that drives sessions for IDEs and the official SDKs."""

from codex_engine.app_server.connection import Connection, ConnectionClosedError
from codex_engine.app_server.server import AppServer, ServerOptions
from codex_engine.app_server.stdio import serve_stdio

__all__ = ["AppServer", "Connection", "ConnectionClosedError", "ServerOptions", "serve_stdio"]
