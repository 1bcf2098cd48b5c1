"""Thread items: what a turn is made of (user and agent messages, reasoning, commands, searches)."""

from typing import Any, Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out
from codex_engine.protocol.app_server.mcp import McpToolCallItem

__all__ = [
    "AgentMessageItem",
    "CommandExecutionItem",
    "ContextCompactionItem",
    "EnteredReviewModeItem",
    "ExitedReviewModeItem",
    "FunctionCallOutputItem",
    "ImageViewItem",
    "ReasoningItem",
    "ThreadItem",
    "UserMessageItem",
    "WebSearchItem",
]


class UserMessageItem(_Out):
    type: Literal["userMessage"] = "userMessage"
    id: str
    client_id: str | None = None
    #: UserInput values as the client sent them (``text_elements`` stays snake_case on the wire).
    content: list[dict[str, Any]]


class FunctionCallOutputItem(_Out):
    """A tool output the client delivered with ``turn/start``'s ``toolOutput`` (no call made)."""

    type: Literal["functionCallOutput"] = "functionCallOutput"
    id: str
    name: str
    namespace: str | None = None
    #: A string, or Responses function-output content items (``input_text``, ``input_image``).
    output: str | list[dict[str, Any]]


class AgentMessageItem(_Out):
    type: Literal["agentMessage"] = "agentMessage"
    id: str
    text: str
    phase: str | None = None


class ReasoningItem(_Out):
    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: list[str] = Field(default_factory=list)
    content: list[str] = Field(default_factory=list)


class CommandExecutionItem(_Out):
    type: Literal["commandExecution"] = "commandExecution"
    id: str
    command: str
    cwd: str
    process_id: str | None = None
    #: Who ran it: the model through ``shell`` (``agent``) or ``exec_command``
    #: (``unifiedExecStartup``, with the session id as ``processId``).
    source: Literal["agent", "userShell", "unifiedExecStartup", "unifiedExecInteraction"] = "agent"
    status: Literal["inProgress", "completed", "failed", "declined"]
    command_actions: list[dict[str, Any]]
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None


class FileUpdateChange(_Out):
    path: str
    #: ``{"type": "add"|"delete"}`` or ``{"type": "update", "move_path": …}`` (snake_case kept).
    kind: dict[str, Any]
    diff: str


class FileChangeItem(_Out):
    type: Literal["fileChange"] = "fileChange"
    id: str
    changes: list[FileUpdateChange]
    status: Literal["inProgress", "completed", "failed", "declined"]


class WebSearchItem(_Out):
    type: Literal["webSearch"] = "webSearch"
    id: str
    query: str
    action: dict[str, Any] | None = None


class ImageViewItem(_Out):
    """A local image the model looked at (``view_image``)."""

    type: Literal["imageView"] = "imageView"
    id: str
    path: str


class ContextCompactionItem(_Out):
    type: Literal["contextCompaction"] = "contextCompaction"
    id: str


class EnteredReviewModeItem(_Out):
    """A review turn began; ``review`` says what is reviewed (e.g. ``current changes``)."""

    type: Literal["enteredReviewMode"] = "enteredReviewMode"
    id: str
    review: str


class ExitedReviewModeItem(_Out):
    """A review turn ended; ``review`` is its rendered result."""

    type: Literal["exitedReviewMode"] = "exitedReviewMode"
    id: str
    review: str


ThreadItem = (
    UserMessageItem
    | FunctionCallOutputItem
    | AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | WebSearchItem
    | ContextCompactionItem
    | ImageViewItem
    | EnteredReviewModeItem
    | ExitedReviewModeItem
    | McpToolCallItem
)
