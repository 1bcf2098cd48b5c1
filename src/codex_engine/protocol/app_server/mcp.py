"""App-server v2 messages about MCP servers: status listing, tool calls, resources, the item.

Params validate what clients send (unknown fields ignored); the rest is what the server emits,
shaped to validate against the reference's app-server schema (camelCase on the wire).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

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


class _Params(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        strict=True,
        frozen=True,
        defer_build=True,
    )


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


# -- the item ----------------------------------------------------------------------------------


class McpToolCallResult(_Out):
    content: list[Any]
    structured_content: Any = None
    meta: Any = Field(default=None, alias="_meta")


class McpToolCallError(_Out):
    message: str


class McpToolCallItem(_Out):
    """`ThreadItem` of type `mcpToolCall`."""

    type: Literal["mcpToolCall"] = "mcpToolCall"
    id: str
    server: str
    tool: str
    status: Literal["inProgress", "completed", "failed"]
    arguments: Any = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None


# -- notifications -----------------------------------------------------------------------------


class McpServerStatusUpdatedNotification(_Out):
    """`mcpServer/startupStatus/updated`."""

    name: str
    status: McpServerStartupState
    error: str | None = None
    thread_id: str | None = None


# -- mcpServerStatus/list ----------------------------------------------------------------------


class ListMcpServerStatusParams(_Params):
    cursor: str | None = None
    detail: Literal["full", "toolsAndAuthOnly"] | None = None
    limit: int | None = Field(default=None, ge=0)
    server_name: str | None = None
    thread_id: str | None = None


class McpServerInfo(_Out):
    name: str
    version: str
    title: str | None = None
    description: str | None = None
    website_url: str | None = None


class McpServerStatus(_Out):
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


class ListMcpServerStatusResponse(_Out):
    data: list[McpServerStatus]
    next_cursor: str | None = None


# -- mcpServer/tool/call, mcpServer/resource/read ----------------------------------------------


class McpServerToolCallParams(_Params):
    thread_id: str
    server: str
    tool: str
    arguments: Any = None
    meta: Any = Field(default=None, alias="_meta")


class McpServerToolCallResponse(_Out):
    content: list[Any]
    structured_content: Any = None
    is_error: bool | None = None
    meta: Any = Field(default=None, alias="_meta")


class McpResourceReadParams(_Params):
    server: str
    uri: str
    thread_id: str | None = None


class McpResourceReadResponse(_Out):
    contents: list[dict[str, Any]]
