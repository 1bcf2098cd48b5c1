"""MCP servers as tool sources: configured servers started, listed, called and stopped.

The protocol is the official `mcp` SDK's (the `mcp` extra); this package is the glue. Only
:mod:`codex_engine.mcp.connection` imports the SDK, and only once a server is started.
"""

from codex_engine.mcp.errors import McpCallError, McpStartupError
from codex_engine.mcp.manager import McpManager, McpTool, sdk_available

__all__ = ["McpCallError", "McpManager", "McpStartupError", "McpTool", "sdk_available"]
