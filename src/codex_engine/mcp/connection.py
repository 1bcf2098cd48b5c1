"""One MCP server as the session sees it: started in a task of its own, used, stopped.

The official `mcp` SDK speaks the protocol (stdio and streamable HTTP transports, the handshake,
requests); this module only owns the lifetime. The task enters the SDK's transport and session,
initializes and lists the tools within the startup timeout, then holds them open until
:meth:`ServerConnection.close`; leaving the SDK's stdio transport closes the server's stdin and
kills its process group (the SDK starts it in a new session). A server's
``notifications/tools/list_changed`` has its tools listed again, for the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import mcp_types
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from codex_engine._version import __version__
from codex_engine.config.mcp_servers import HttpTransport, McpServerConfig, StdioTransport
from codex_engine.mcp.errors import McpCallError, startup_failure

__all__ = ["ServerConnection", "Status"]

log = logging.getLogger(__name__)

Status = Literal["starting", "ready", "failed", "cancelled"]

#: Variables every stdio server inherits from the session's environment (the reference's list).
_INHERITED_ENV = (
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "__CF_USER_TEXT_ENCODING", "LANG", "LC_ALL",
    "TERM", "TMPDIR", "TZ",
)  # fmt: skip
_CLIENT_INFO = mcp_types.Implementation(name="codex-mcp-client", title="Codex", version=__version__)
_STDERR_TAIL = 300


def stdio_env(transport: StdioTransport, environ: Mapping[str, str]) -> dict[str, str]:
    """A stdio server's environment: the inherited few, `env_vars` copied, then `env`."""
    names = (*_INHERITED_ENV, *transport.env_vars)
    env = {name: environ[name] for name in names if name in environ}
    env.update(transport.env)
    return env


def http_headers(
    server: str, transport: HttpTransport, environ: Mapping[str, str]
) -> dict[str, str]:
    """Headers for every request: static ones, ones read from variables, then the bearer token.

    Raises McpCallError (a startup failure) when the token's variable is unset or empty.
    """
    headers = dict(transport.http_headers)
    for name, variable in transport.env_http_headers.items():
        value = environ.get(variable, "")
        if value.strip():
            headers[name] = value
    token_variable = transport.bearer_token_env_var
    if token_variable is not None:
        token = environ.get(token_variable)
        if not token:
            state = "is empty" if token == "" else "is not set"
            raise McpCallError(
                f"Environment variable {token_variable} for MCP server '{server}' {state}"
            )
        headers["Authorization"] = f"Bearer {token}"
    return headers


class ServerConnection:
    """A configured server: its status, its tools once ready, and calls into it."""

    def __init__(
        self,
        config: McpServerConfig,
        *,
        environ: Mapping[str, str],
        cwd: Path,
        on_tools_changed: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.status: Status = "starting"
        #: Why the server is not ready (a line for people), when it failed.
        self.error: str | None = None
        #: Tools the server listed, after `enabled_tools`/`disabled_tools`.
        self.tools: list[mcp_types.Tool] = []
        self.initialize_result: mcp_types.InitializeResult | None = None
        self._environ = environ
        self._cwd = cwd
        self._session: ClientSession | None = None
        self._settled = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stderr: IO[str] | None = None
        self._on_tools_changed = on_tools_changed
        #: Re-listing the tools after the server said they changed (awaited by `wait_tools`).
        self._relisting: asyncio.Task[None] | None = None

    # -- lifetime ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server in the background; :meth:`wait_settled` says when it is up or not."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp server {self.name}")

    async def wait_settled(self) -> None:
        """Until the server is ready or has failed (bounded by its startup timeout)."""
        await self._settled.wait()

    @property
    def settled(self) -> bool:
        return self._settled.is_set()

    def _settle(self, status: Status, error: str | None = None) -> None:
        if not self._settled.is_set():
            self.status, self.error = status, error
            self._settled.set()

    async def close(self) -> None:
        """Stop the server (its process group is killed if it does not exit) and wait for it."""
        self._stop.set()
        if self._relisting is not None:
            self._relisting.cancel()
        task = self._task
        if task is None:
            self._settle("cancelled")
            return
        if not self._settled.is_set():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self._settle("cancelled")
        if self._stderr is not None:
            self._stderr.close()

    async def _run(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                deadline = anyio.current_time() + self.config.startup_timeout_s
                # Entering the SDK's contexts starts its task groups, so they are entered
                # outside the timeout's cancel scope (scopes must nest); entering does no I/O
                # that can hang: a process is spawned, an HTTP client made.
                try:
                    session = await self._open(stack)
                    with anyio.fail_at(deadline):
                        self.initialize_result = await session.initialize()
                        tools = await self._list_tools(session)
                except Exception as exc:
                    # Told now: stopping the server (below, as the stack unwinds) takes a while.
                    self._settle("failed", startup_failure(self.config, exc, self._stderr_tail()))
                    raise
                self.tools = [tool for tool in tools if self._allowed(tool)]
                self._session = session
                self._settle("ready")
                await self._stop.wait()
        except asyncio.CancelledError:
            self._settle("cancelled")
            raise
        except BaseException as exc:  # the SDK raises exception groups from its task groups
            self._settle("failed", startup_failure(self.config, exc, self._stderr_tail()))
            if not isinstance(exc, Exception | BaseExceptionGroup):
                raise
        finally:
            self._session = None

    async def _open(self, stack: contextlib.AsyncExitStack) -> ClientSession:
        transport = self.config.transport
        if isinstance(transport, StdioTransport):
            # A relative `cwd` is taken from the session's directory; `~` is not expanded here.
            cwd = self._cwd / transport.cwd if transport.cwd else self._cwd
            params = StdioServerParameters(
                command=transport.command,
                args=list(transport.args),
                env=stdio_env(transport, self._environ),
                cwd=cwd,
            )
            # The server's stderr goes to a file (closed in `close`): its last line explains a
            # failed start.
            self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
            read, write = await stack.enter_async_context(stdio_client(params, self._stderr))
        else:
            headers = http_headers(self.name, transport, self._environ)
            client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
            read, write = await stack.enter_async_context(
                streamable_http_client(transport.url, http_client=client)
            )
        return await stack.enter_async_context(
            ClientSession(read, write, client_info=_CLIENT_INFO, message_handler=self._on_message)
        )

    async def _on_message(self, message: mcp_types.ServerNotification | Exception) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification) and self._session is not None:
            # Listed from a task of its own: this handler runs on the session's reader, which a
            # request made from here would wait on.
            previous = self._relisting
            self._relisting = asyncio.create_task(self._relist(previous))

    async def _relist(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        session = self._session
        if session is None:
            return
        try:
            with anyio.fail_after(self.config.tool_timeout_s):
                tools = await self._list_tools(session)
        except Exception as exc:  # the last list stays; a later notice may fix it
            log.warning("MCP server `%s`: listing its changed tools failed: %s", self.name, exc)
            return
        self.tools = [tool for tool in tools if self._allowed(tool)]
        if self._on_tools_changed is not None:
            self._on_tools_changed()

    async def wait_tools(self) -> None:
        """Until the tools the server last said had changed are listed again (if any)."""
        relisting = self._relisting
        if relisting is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(relisting)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.flush()
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 4 * _STDERR_TAIL))
            lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
            return lines[-1][-_STDERR_TAIL:] if lines else ""
        return ""

    def _allowed(self, tool: mcp_types.Tool) -> bool:
        return self.config.allows(tool.name)

    @staticmethod
    async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        while True:
            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools.extend(page.tools)
            if not page.next_cursor or page.next_cursor == cursor:
                return tools
            cursor = page.next_cursor

    # -- requests ------------------------------------------------------------------------------

    def _ready_session(self) -> ClientSession:
        if self._session is None:
            reason = f": {self.error}" if self.error else ""
            raise McpCallError(f"MCP server `{self.name}` is not running{reason}")
        return self._session

    async def request(self, what: str, request: Any, result_type: Any) -> Any:
        """Send one request with the tool timeout; failures are McpCallError with one reason."""
        session = self._ready_session()
        timeout = self.config.tool_timeout_s
        try:
            return await session.send_request(
                request, result_type, request_read_timeout_seconds=timeout
            )
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                message = f"timed out awaiting {what} after {round(timeout * 1000)}ms"
                raise McpCallError(message) from None
            if exc.code == mcp_types.CONNECTION_CLOSED:
                raise McpCallError("Transport closed") from None
            raise McpCallError(f"Mcp error: {exc.code}: {exc.error.message}") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
            raise McpCallError("Transport closed") from None

    async def call_tool(
        self, tool: str, arguments: dict[str, Any] | None
    ) -> mcp_types.CallToolResult:
        # Sent as a plain request: the SDK's call_tool would also check the result against the
        # tool's output schema, which the reference does not do.
        request = mcp_types.CallToolRequest(
            params=mcp_types.CallToolRequestParams(name=tool, arguments=arguments)
        )
        result: mcp_types.CallToolResult = await self.request(
            "tools/call", request, mcp_types.CallToolResult
        )
        return result

    async def list_resources(self, cursor: str | None) -> mcp_types.ListResourcesResult:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        request = mcp_types.ListResourcesRequest(params=params)
        result: mcp_types.ListResourcesResult = await self.request(
            "resources/list", request, mcp_types.ListResourcesResult
        )
        return result

    async def list_resource_templates(
        self, cursor: str | None
    ) -> mcp_types.ListResourceTemplatesResult:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        request = mcp_types.ListResourceTemplatesRequest(params=params)
        result: mcp_types.ListResourceTemplatesResult = await self.request(
            "resources/templates/list", request, mcp_types.ListResourceTemplatesResult
        )
        return result

    async def read_resource(self, uri: str) -> mcp_types.ReadResourceResult:
        request = mcp_types.ReadResourceRequest(params=mcp_types.ReadResourceRequestParams(uri=uri))
        result: mcp_types.ReadResourceResult = await self.request(
            "resources/read", request, mcp_types.ReadResourceResult
        )
        return result

    @property
    def has_resources(self) -> bool:
        result = self.initialize_result
        return result is not None and result.capabilities.resources is not None
