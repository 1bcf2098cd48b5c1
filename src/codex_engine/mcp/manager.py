"""The session's MCP servers: started together in the background, found by tool name, stopped.

Every enabled server starts at once in a task of its own, so a slow one delays nobody but
whoever waits for it, and never longer than its own startup timeout. Failures are kept as one
line per server (reported once by whoever drains :meth:`McpManager.take_warnings`); a required
server's failure is raised by :meth:`McpManager.check_required`. :meth:`McpManager.reload`
swaps in a new set of servers, restarting only the ones whose configuration changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from codex_engine.config.mcp_servers import McpServerConfig
from codex_engine.mcp.errors import McpStartupError
from codex_engine.mcp.names import qualify

if TYPE_CHECKING:
    import mcp_types

    from codex_engine.mcp.connection import ServerConnection, Status

__all__ = ["McpManager", "McpTool", "StatusListener", "sdk_available"]

#: Told each time a server settles: (server, status, error).
StatusListener = Callable[[str, "Status", "str | None"], Awaitable[None] | None]


def sdk_available() -> bool:
    """Whether the official `mcp` package (the `mcp` extra) is installed."""
    return importlib.util.find_spec("mcp") is not None


class McpTool(msgspec.Struct, frozen=True):
    """A tool the model may call: its model-visible name, its server and its definition."""

    name: str
    server: str
    tool: mcp_types.Tool


class McpManager:
    """The enabled servers of one session."""

    def __init__(
        self, servers: Mapping[str, McpServerConfig], *, environ: Mapping[str, str], cwd: Path
    ) -> None:
        self.configs = {name: cfg for name, cfg in servers.items() if cfg.enabled}
        self.connections: dict[str, ServerConnection] = {}
        self._environ = dict(environ)
        self._cwd = cwd
        self._listeners: list[StatusListener] = []
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._warnings: list[str] = []
        self._tools: dict[str, McpTool] | None = None
        #: What listeners have been told so far, per server ("starting" until it settles).
        self.reported: dict[str, Status] = {}

    @property
    def configured(self) -> bool:
        return bool(self.configs)

    def start(self) -> None:
        """Start every enabled server; returns at once."""
        if not self.configs or self.connections:
            return
        self._start(list(self.configs))

    def _start(self, names: list[str]) -> None:
        if not names:
            return
        if not sdk_available():
            self._warnings.append(
                f"MCP servers are configured ({', '.join(names)}) but not started: the `mcp` "
                "package is not installed; install it with `pip install 'codex-engine[mcp]'`"
            )
            return
        from codex_engine.mcp.connection import ServerConnection

        for name in names:
            connection = ServerConnection(
                self.configs[name],
                environ=self._environ,
                cwd=self._cwd,
                on_tools_changed=self._forget_tools,
            )
            self.connections[name] = connection
            self.reported[name] = "starting"
            connection.start()
            self._watchers[name] = asyncio.create_task(self._watch(connection))

    async def reload(self, servers: Mapping[str, McpServerConfig]) -> list[str]:
        """Use ``servers`` from now on: stop the removed and changed ones (their processes are
        gone when this returns), start the new and changed ones in the background.

        Returns the names started, each already reported ``starting`` to the listeners.
        """
        configs = {name: cfg for name, cfg in servers.items() if cfg.enabled}
        stale = [name for name, cfg in self.configs.items() if configs.get(name) != cfg]
        fresh = [name for name, cfg in configs.items() if self.configs.get(name) != cfg]
        stopping = [self.connections.pop(name) for name in stale if name in self.connections]
        for name in stale:
            self.reported.pop(name, None)
            watcher = self._watchers.pop(name, None)
            if watcher is not None:
                watcher.cancel()
        self.configs = configs
        self._tools = None
        await asyncio.gather(*(c.close() for c in stopping))
        if fresh and sdk_available():
            # Told before they start, so no listener hears a server settle before it started.
            for name in fresh:
                await self._tell(name, "starting", None)
        self._start(fresh)
        return fresh

    async def _tell(self, name: str, status: Status, error: str | None) -> None:
        for listener in list(self._listeners):
            outcome = listener(name, status, error)
            if outcome is not None:
                await outcome

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    async def _watch(self, connection: ServerConnection) -> None:
        await connection.wait_settled()
        if self.connections.get(connection.name) is not connection:
            return  # replaced or removed by a reload meanwhile
        self._tools = None
        if connection.status == "failed" and connection.error:
            self._warnings.append(connection.error)
        self.reported[connection.name] = connection.status
        await self._tell(connection.name, connection.status, connection.error)

    def _forget_tools(self) -> None:
        self._tools = None

    async def wait_started(self) -> None:
        """Until every server is ready or failed (each bounded by its own startup timeout), and
        tools a server said had changed are listed again."""
        watchers = list(self._watchers.values())
        if watchers:
            await asyncio.gather(*(asyncio.shield(w) for w in watchers), return_exceptions=True)
        await asyncio.gather(*(c.wait_tools() for c in list(self.connections.values())))

    async def check_required(self) -> None:
        """Wait for the required servers; McpStartupError naming those that did not start."""
        required = [name for name, cfg in self.configs.items() if cfg.required]
        if not required:
            return
        failures: list[str] = []
        for name in required:
            connection = self.connections.get(name)
            if connection is None:
                failures.append(f"{name}: the `mcp` package is not installed")
                continue
            await connection.wait_settled()
            if connection.status != "ready":
                failures.append(f"{name}: {connection.error or connection.status}")
        if failures:
            raise McpStartupError(
                "required MCP servers failed to initialize: " + "; ".join(failures)
            )

    def take_warnings(self) -> list[str]:
        """Startup problems not reported yet (each is returned once)."""
        warnings, self._warnings = self._warnings, []
        return warnings

    def tools(self) -> dict[str, McpTool]:
        """The tools of the ready servers by model-visible name (recomputed as servers settle)."""
        if self._tools is None:
            listed: dict[tuple[str, str], Any] = {}
            for connection in self.connections.values():
                if connection.status == "ready":
                    for tool in connection.tools:
                        listed.setdefault((connection.name, tool.name), tool)
            self._tools = {
                q.name: McpTool(q.name, q.server, listed[(q.server, q.tool)])
                for q in qualify(listed)
            }
        return self._tools

    def ready(self, server: str) -> ServerConnection | None:
        connection = self.connections.get(server)
        return connection if connection is not None and connection.status == "ready" else None

    async def close(self) -> None:
        """Stop every server and wait until their processes are gone."""
        watchers = list(self._watchers.values())
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*(c.close() for c in self.connections.values()))
        for watcher in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
