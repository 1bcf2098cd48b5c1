"""Thread items: what a turn is made of (user and agent messages, reasoning, commands, searches)."""

from typing import Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import _Out, _TaggedOut
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


class UserMessageItem(_TaggedOut, tag="userMessage", kw_only=True):
    id: str
    client_id: str | None = None
    #: UserInput values as the client sent them (``text_elements`` stays snake_case on the wire).
    content: list[dict[str, Any]]


class FunctionCallOutputItem(_TaggedOut, tag="functionCallOutput", kw_only=True):
    """A tool output the client delivered with ``turn/start``'s ``toolOutput`` (no call made)."""

    id: str
    name: str
    namespace: str | None = None
    #: A string, or Responses function-output content items (``input_text``, ``input_image``).
    output: str | list[dict[str, Any]]


class AgentMessageItem(_TaggedOut, tag="agentMessage", kw_only=True):
    id: str
    text: str
    phase: str | None = None


class ReasoningItem(_TaggedOut, tag="reasoning", kw_only=True):
    id: str
    summary: list[str] = msgspec.field(default_factory=list)
    content: list[str] = msgspec.field(default_factory=list)


CommandStatus = Literal["inProgress", "completed", "failed", "declined"]


class CommandExecutionItem(_TaggedOut, tag="commandExecution", kw_only=True):
    id: str
    command: str
    cwd: str
    process_id: str | None = None
    #: Who ran it: the model through ``shell`` (``agent``) or ``exec_command``
    #: (``unifiedExecStartup``, with the session id as ``processId``).
    source: Literal["agent", "userShell", "unifiedExecStartup", "unifiedExecInteraction"] = "agent"
    status: CommandStatus
    command_actions: list[dict[str, Any]]
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None


class FileUpdateChange(_Out, kw_only=True):
    path: str
    #: ``{"type": "add"|"delete"}`` or ``{"type": "update", "move_path": …}`` (snake_case kept).
    kind: dict[str, Any]
    diff: str


class FileChangeItem(_TaggedOut, tag="fileChange", kw_only=True):
    id: str
    changes: list[FileUpdateChange]
    status: CommandStatus


class WebSearchItem(_TaggedOut, tag="webSearch", kw_only=True):
    id: str
    query: str
    action: dict[str, Any] | None = None


class ImageViewItem(_TaggedOut, tag="imageView", kw_only=True):
    """A local image the model looked at (``view_image``)."""

    id: str
    path: str


class ContextCompactionItem(_TaggedOut, tag="contextCompaction", kw_only=True):
    id: str


class EnteredReviewModeItem(_TaggedOut, tag="enteredReviewMode", kw_only=True):
    """A review turn began; ``review`` says what is reviewed (e.g. ``current changes``)."""

    id: str
    review: str


class ExitedReviewModeItem(_TaggedOut, tag="exitedReviewMode", kw_only=True):
    """A review turn ended; ``review`` is its rendered result."""

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
