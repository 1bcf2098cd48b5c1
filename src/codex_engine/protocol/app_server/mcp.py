"""App-server v2 messages about MCP servers: status listing, tool calls, resources, the item.

Params validate what clients send (unknown fields ignored); the rest is what the server emits,
shaped to validate against the reference's app-server schema (camelCase on the wire).
"""

from typing import Annotated, Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params, _TaggedOut

__all__ = [
    "ListMcpServerStatusParams",
    "ListMcpServerStatusResponse",
    "McpResourceReadParams",
    "McpResourceReadResponse",
    "McpServerInfo",
    "McpServerStartupState",
    "McpServerStatus",
    "McpServerStatusUpdatedNotification",
    "McpServerToolCallParams",
    "McpServerToolCallResponse",
    "McpToolCallError",
    "McpToolCallItem",
    "McpToolCallResult",
]

McpServerStartupState = Literal["starting", "ready", "failed", "cancelled"]
McpServerConnectionStatus = Literal[
    "notStarted", "starting", "connected", "authenticationRequired", "failed", "cancelled",
    "disabled",
]  # fmt: skip


# -- the item ----------------------------------------------------------------------------------


class McpToolCallResult(_Out, kw_only=True):
    content: list[Any]
    structured_content: Any = None
    meta: Any = msgspec.field(default=None, name="_meta")


class McpToolCallError(_Out, kw_only=True):
    message: str


class McpToolCallItem(_TaggedOut, tag="mcpToolCall", kw_only=True):
    """`ThreadItem` of type `mcpToolCall`."""

    id: str
    server: str
    tool: str
    status: Literal["inProgress", "completed", "failed"]
    arguments: Any = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None


# -- notifications -----------------------------------------------------------------------------


class McpServerStatusUpdatedNotification(_Out, kw_only=True):
    """`mcpServer/startupStatus/updated`."""

    name: str
    status: McpServerStartupState
    error: str | None = None
    thread_id: str | None = None


# -- mcpServerStatus/list ----------------------------------------------------------------------


class ListMcpServerStatusParams(_Params, frozen=True, kw_only=True):
    cursor: str | None = None
    detail: Literal["full", "toolsAndAuthOnly"] | None = None
    limit: Annotated[int, NonNegative] | None = None
    server_name: str | None = None
    thread_id: str | None = None


class McpServerInfo(_Out, kw_only=True):
    name: str
    version: str
    title: str | None = None
    description: str | None = None
    website_url: str | None = None


class McpServerStatus(_Out, kw_only=True):
    name: str
    auth_status: Literal["unknown", "unsupported", "notLoggedIn", "bearerToken", "oAuth"]
    tools: dict[str, dict[str, Any]]
    resources: list[dict[str, Any]]
    resource_templates: list[dict[str, Any]]
    runtime_status: McpServerConnectionStatus | None = None
    http_origin: str | None = None
    server_info: McpServerInfo | None = None
    server_capabilities: Any = None
    tools_error: str | None = None


class ListMcpServerStatusResponse(_Out, kw_only=True):
    data: list[McpServerStatus]
    next_cursor: str | None = None


# -- mcpServer/tool/call, mcpServer/resource/read ----------------------------------------------


class McpServerToolCallParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    server: str
    tool: str
    arguments: Any = None
    meta: Any = msgspec.field(default=None, name="_meta")


class McpServerToolCallResponse(_Out, kw_only=True):
    content: list[Any]
    structured_content: Any = None
    is_error: bool | None = None
    meta: Any = msgspec.field(default=None, name="_meta")


class McpResourceReadParams(_Params, frozen=True, kw_only=True):
    server: str
    uri: str
    thread_id: str | None = None


class McpResourceReadResponse(_Out, kw_only=True):
    contents: list[dict[str, Any]]
