"""What goes wrong with MCP servers, as lines a person (or the model) can act on."""

from __future__ import annotations

from codex_engine.config.mcp_servers import McpServerConfig

# Defined in the one tree, importable here.
from codex_engine.errors import McpCallError, McpStartupError

__all__ = ["McpCallError", "McpStartupError", "flatten", "startup_failure"]


def flatten(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (the SDK's task groups wrap what went wrong)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    leaf = flatten(exc)
    if isinstance(leaf, OSError) and leaf.strerror:
        return f"{leaf.strerror} (os error {leaf.errno})" if leaf.errno else leaf.strerror
    text = " ".join(str(leaf).split())
    return text or type(leaf).__name__


def startup_failure(config: McpServerConfig, exc: BaseException, stderr_tail: str = "") -> str:
    """Why `config`'s server did not start, in one line (as the reference words it)."""
    name = config.name
    if isinstance(flatten(exc), TimeoutError):
        seconds = f"{config.startup_timeout_s:g}"
        return (
            f"MCP client for `{name}` timed out after {seconds} seconds. Add or adjust "
            f"`startup_timeout_sec` in your config.toml: [mcp_servers.{name}] "
            "startup_timeout_sec = XX"
        )
    detail = f" (server stderr: {stderr_tail})" if stderr_tail else ""
    return f"MCP client for `{name}` failed to start: {_reason(exc)}{detail}"
