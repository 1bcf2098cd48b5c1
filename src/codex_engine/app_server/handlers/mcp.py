"""``mcpServer*`` methods: server status, direct tool calls, resource reads, config reload;
startup notices.

A loaded thread's servers are its session's (``threadId``). ``mcpServerStatus/list`` without a
thread starts the configured servers just to look at them and stops them again, as the
reference does. ``config/mcpServer/reload`` re-reads ``[mcp_servers]`` for every loaded thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import (
    InvalidParamsError,
    InvalidRequestError,
    NoParams,
    method,
)
from codex_engine.app_server.state import ThreadState
from codex_engine.config.loader import Config
from codex_engine.config.mcp_servers import HttpTransport, McpServerConfig
from codex_engine.core.tools.mcp import McpToolset
from codex_engine.mcp import McpCallError, McpManager
from codex_engine.protocol.app_server.mcp import (
    ListMcpServerStatusParams,
    ListMcpServerStatusResponse,
    McpResourceReadParams,
    McpResourceReadResponse,
    McpServerInfo,
    McpServerStatus,
    McpServerStatusUpdatedNotification,
    McpServerToolCallParams,
    McpServerToolCallResponse,
)

__all__ = ["announce_startup"]

_RUNTIME = {"starting": "starting", "ready": "connected", "failed": "failed"}


def _manager(thread: ThreadState) -> McpManager | None:
    session = thread.session
    if session is None:
        return None
    toolsets = session.deps.toolsets
    return next((t.manager for t in toolsets if isinstance(t, McpToolset)), None)


async def announce_startup(ctx: ServerContext, thread: ThreadState) -> None:
    """Send each server's startup state now and ``mcpServer/startupStatus/updated`` as it moves."""
    manager = _manager(thread)
    if manager is None:
        return
    thread_id = thread.id

    async def notify(name: str, status: Any, error: str | None) -> None:
        if ctx.peer.closed:
            return
        note = McpServerStatusUpdatedNotification(
            name=name, status=status, error=error, thread_id=thread_id
        )
        await ctx.peer.notify("mcpServer/startupStatus/updated", note.to_wire())

    # Read and subscribed in one step (no await between), so no change is missed or repeated.
    current = dict(manager.reported)
    manager.add_listener(notify)
    for name, status in current.items():
        connection = manager.connections[name]
        await notify(name, status, connection.error if status == "failed" else None)


@asynccontextmanager
async def _servers(ctx: ServerContext, thread_id: str | None) -> AsyncIterator[McpManager]:
    """The thread's servers, or the configured ones started for this request only."""
    if thread_id is not None:
        manager = _manager(ctx.thread(thread_id))
        if manager is None:
            raise InvalidRequestError(f"thread {thread_id} has no MCP servers configured")
        yield manager
        return
    config = ctx.load_config()
    manager = McpManager(config.mcp_servers, environ=ctx.env, cwd=Path.cwd())
    try:
        manager.start()
        yield manager
    finally:
        await manager.close()


def _auth_status(config: McpServerConfig) -> Any:
    transport = config.transport
    if not isinstance(transport, HttpTransport):
        return "unsupported"
    return "bearerToken" if transport.bearer_token_env_var else "unknown"


def _origin(config: McpServerConfig) -> str | None:
    if not isinstance(config.transport, HttpTransport):
        return None
    parts = urlsplit(config.transport.url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


async def _status(manager: McpManager, config: McpServerConfig, full: bool) -> McpServerStatus:
    status = McpServerStatus(
        name=config.name,
        auth_status=_auth_status(config),
        tools={},
        resources=[],
        resource_templates=[],
        runtime_status="disabled" if not config.enabled else "notStarted",
        http_origin=_origin(config),
    )
    connection = manager.connections.get(config.name)
    if connection is None:
        return status
    await connection.wait_settled()
    status.runtime_status = _RUNTIME.get(connection.status, "cancelled")  # type: ignore[assignment]
    if connection.status != "ready":
        status.tools_error = connection.error
        return status
    status.tools = {tool.name: _dump(tool) for tool in connection.tools}
    init = connection.initialize_result
    if init is not None:
        info = init.server_info
        status.server_info = McpServerInfo(
            name=info.name, version=info.version, title=info.title, description=info.description
        )
        status.server_capabilities = _dump(init.capabilities)
    if full and connection.has_resources:
        try:
            status.resources = [_dump(r) for r in (await connection.list_resources(None)).resources]
            templates = await connection.list_resource_templates(None)
            status.resource_templates = [_dump(t) for t in templates.resource_templates]
        except McpCallError:
            pass  # listed as far as the server answers
    return status


@method("mcpServerStatus/list", ListMcpServerStatusParams)
async def mcp_server_status_list(
    ctx: ServerContext, p: ListMcpServerStatusParams, reply: Reply
) -> Any:
    start = 0
    if p.cursor is not None:
        if not p.cursor.isdigit():
            raise InvalidParamsError("`cursor` is not one this server returned")
        start = int(p.cursor)
    async with _servers(ctx, p.thread_id) as manager:
        configs = ctx.load_config().mcp_servers if p.thread_id is None else manager.configs
        names = [name for name in configs if p.server_name in (None, name)]
        limit = p.limit or len(names) or 1
        page = names[start : start + limit]
        full = p.detail != "toolsAndAuthOnly"
        data = [await _status(manager, configs[name], full) for name in page]
    following = start + len(page)
    next_cursor = str(following) if following < len(names) else None
    return ListMcpServerStatusResponse(data=data, next_cursor=next_cursor).to_wire()


@method("mcpServer/tool/call", McpServerToolCallParams)
async def mcp_server_tool_call(ctx: ServerContext, p: McpServerToolCallParams, reply: Reply) -> Any:
    if p.arguments is not None and not isinstance(p.arguments, dict):
        raise InvalidParamsError("`arguments` should be an object")
    async with _servers(ctx, p.thread_id) as manager:
        await manager.wait_started()
        connection = manager.ready(p.server)
        if connection is None:
            known = ", ".join(manager.configs) or "none"
            raise InvalidRequestError(
                f"MCP server `{p.server}` is not running in thread {p.thread_id} "
                f"(configured: {known})"
            )
        result = await connection.call_tool(p.tool, p.arguments)
    return McpServerToolCallResponse(
        content=[_dump(block) for block in result.content],
        structured_content=result.structured_content,
        is_error=result.is_error,
        meta=result.meta,
    ).to_wire()


@method("mcpServer/resource/read", McpResourceReadParams)
async def mcp_resource_read(ctx: ServerContext, p: McpResourceReadParams, reply: Reply) -> Any:
    async with _servers(ctx, p.thread_id) as manager:
        await manager.wait_started()
        connection = manager.ready(p.server)
        if connection is None:
            raise InvalidRequestError(f"MCP server `{p.server}` is not running")
        result = await connection.read_resource(p.uri)
    return McpResourceReadResponse(contents=[_dump(c) for c in result.contents]).to_wire()


@method("config/mcpServer/reload", NoParams)
async def mcp_server_reload(ctx: ServerContext, p: NoParams, reply: Reply) -> Any:
    """Every loaded thread's servers follow config.toml again: removed or changed ones stop
    (their processes are gone before the answer), new or changed ones start in the background
    and report through ``mcpServer/startupStatus/updated``; unchanged ones keep running."""
    # Every thread's config is read first, so a broken config.toml changes nothing.
    plans: list[tuple[McpManager, Config]] = []
    for thread in list(ctx.threads.values()):
        manager = _manager(thread)
        if manager is not None:
            plans.append((manager, ctx.load_config(cwd=thread.config.cwd)))
    for manager, config in plans:
        await manager.reload(config.mcp_servers)
    return {}
