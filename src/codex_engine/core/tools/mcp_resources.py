"""`list_mcp_resources`, `list_mcp_resource_templates` and `read_mcp_resource`, as the reference.

Offered whenever MCP servers are configured (measured on the reference: whether or not a server
has resources). Each answers the model with JSON and shows as an MCP tool call of the server it
asked (``codex`` when it asked them all).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codex_engine.core.events import McpToolCallFinished, McpToolCallStarted, TurnEvent
from codex_engine.mcp.errors import McpCallError
from codex_engine.mcp.manager import McpManager
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

if TYPE_CHECKING:  # the SDK behind it is an optional extra
    from codex_engine.mcp.connection import ServerConnection

__all__ = ["NAMES", "SPECS", "run_resource_tool"]

Emit = Callable[[TurnEvent], None]


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": parameters,
    }


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


_LISTING = "Opaque cursor from a previous {name} call; omit for the first page."
SPECS: list[dict[str, object]] = [
    _spec(
        "list_mcp_resources",
        "Lists resources provided by MCP servers. Resources allow servers to share data that "
        "provides context to language models, such as files, database schemas, or "
        "application-specific information. Prefer resources over web search when possible.",
        {
            "cursor": _string(_LISTING.format(name="list_mcp_resources")),
            "server": _string(
                "MCP server name. Omit to list resources from every configured server."
            ),
        },
        [],
    ),
    _spec(
        "list_mcp_resource_templates",
        "Lists resource templates provided by MCP servers. Parameterized resource templates "
        "allow servers to share data that takes parameters and provides context to language "
        "models, such as files, database schemas, or application-specific information. Prefer "
        "resource templates over web search when possible.",
        {
            "cursor": _string(_LISTING.format(name="list_mcp_resource_templates")),
            "server": _string(
                "MCP server name. Omit to list resource templates from every configured server."
            ),
        },
        [],
    ),
    _spec(
        "read_mcp_resource",
        "Read a specific resource from an MCP server given the server name and resource URI.",
        {
            "server": _string(
                "MCP server name exactly as configured. Must match the 'server' field returned "
                "by list_mcp_resources."
            ),
            "uri": _string(
                "Resource URI to read. Must be one of the URIs returned by list_mcp_resources."
            ),
        },
        ["server", "uri"],
    ),
]
NAMES = frozenset(str(spec["name"]) for spec in SPECS)


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _text(args: dict[str, Any], key: str) -> str | None:
    value = args.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _server(manager: McpManager, name: str) -> ServerConnection:
    connection = manager.ready(name)
    if connection is None:
        raise McpCallError(f"unknown MCP server '{name}'")
    return connection


async def _list(manager: McpManager, args: dict[str, Any], templates: bool) -> dict[str, Any]:
    key = "resourceTemplates" if templates else "resources"
    server, cursor = _text(args, "server"), _text(args, "cursor")
    if server is None and cursor is not None:
        raise McpCallError("cursor can only be used when a server is specified")
    names = [server] if server is not None else sorted(manager.connections)
    entries: list[dict[str, Any]] = []
    next_cursor: str | None = None
    for name in names:
        connection = _server(manager, name) if server is not None else manager.ready(name)
        if connection is None or (server is None and not connection.has_resources):
            continue
        try:
            if templates:
                page: Any = await connection.list_resource_templates(cursor)
                items = page.resource_templates
            else:
                page = await connection.list_resources(cursor)
                items = page.resources
        except McpCallError:
            if server is not None:
                raise
            continue  # one server's failure leaves the others listed, as the reference does
        entries.extend({"server": name, **_dump(item)} for item in items)
        next_cursor = page.next_cursor if server is not None else None
    payload: dict[str, Any] = {"server": server} if server is not None else {}
    payload[key] = entries
    if next_cursor:
        payload["nextCursor"] = next_cursor
    return payload


async def _read(manager: McpManager, args: dict[str, Any]) -> dict[str, Any]:
    server, uri = _text(args, "server"), _text(args, "uri")
    if server is None or uri is None:
        raise McpCallError("`server` and `uri` are required")
    result = await _server(manager, server).read_resource(uri)
    return {"server": server, "uri": uri, **_dump(result)}


_FAILED = {
    "list_mcp_resources": "resources/list failed",
    "list_mcp_resource_templates": "resources/templates/list failed",
    "read_mcp_resource": "resources/read failed",
}


async def run_resource_tool(
    manager: McpManager, call: FunctionCall, emit: Emit
) -> FunctionCallOutput:
    """Answer one resource tool call."""
    try:
        raw = json.loads(call.arguments) if call.arguments.strip() else {}
    except ValueError as exc:
        return FunctionCallOutput(call_id=call.call_id, output=f"failed to parse arguments: {exc}")
    args: dict[str, Any] = raw if isinstance(raw, dict) else {}
    server = _text(args, "server") or "codex"
    emit(McpToolCallStarted(call.call_id, server, call.name, raw))
    start = time.monotonic()
    try:
        if call.name == "read_mcp_resource":
            payload = await _read(manager, args)
        else:
            payload = await _list(manager, args, templates=call.name != "list_mcp_resources")
    except McpCallError as exc:
        message = f"{_FAILED[call.name]}: {exc}"
        emit(McpToolCallFinished(call.call_id, server, call.name, raw, 0.0, error=message))
        return FunctionCallOutput(call_id=call.call_id, output=message)
    text = json.dumps(payload, ensure_ascii=False)
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    duration = time.monotonic() - start
    emit(McpToolCallFinished(call.call_id, server, call.name, raw, duration, result=result))
    return FunctionCallOutput(call_id=call.call_id, output=text)
