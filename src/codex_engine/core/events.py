"""Events a running turn reports to its consumer (CLI, app-server, library user).

:data:`TurnEvent` is the whole vocabulary. :class:`Retrying` and :class:`WarningEvent` are
defined by the client, which emits them, and re-exported here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from codex_engine.client.events import Retrying, WarningEvent
from codex_engine.errors import CodexError
from codex_engine.protocol.events import TokenUsage
from codex_engine.protocol.items import ResponseItem
from codex_engine.protocol.rate_limits import RateLimitSnapshot
from codex_engine.telemetry.summary import RuntimeSummary

__all__ = [
    "AgentMessageDelta",
    "CommandFinished",
    "CommandOutputDelta",
    "CommandRejected",
    "CommandStarted",
    "ContextCompacted",
    "EnteredReviewMode",
    "ExitedReviewMode",
    "FileChange",
    "ImageViewed",
    "ItemCompleted",
    "ItemStarted",
    "McpToolCallFinished",
    "McpToolCallStarted",
    "ModelRerouted",
    "PatchFinished",
    "PatchStarted",
    "PlanStep",
    "PlanUpdated",
    "RateLimitsUpdated",
    "ReasoningDelta",
    "ReasoningPartAdded",
    "ReasoningTextDelta",
    "Retrying",
    "TokenCount",
    "TurnCompleted",
    "TurnEvent",
    "TurnFailed",
    "TurnInterrupted",
    "TurnStarted",
    "TurnSummary",
    "WarningEvent",
]


class TurnSummary(msgspec.Struct, frozen=True):
    """What one turn cost: its time and tokens, and the turn's one counter (``runtime``) that
    the request, retry, tool-call and event counts read from."""

    duration_s: float = 0.0
    usage: TokenUsage = msgspec.field(default_factory=TokenUsage)
    #: Counts, and where the time went: API calls, stream and WebSocket events, handshake,
    #: compression.
    runtime: RuntimeSummary = msgspec.field(default_factory=RuntimeSummary)

    @property
    def requests(self) -> int:
        return self.runtime.requests

    @property
    def retries(self) -> int:
        return self.runtime.retries

    @property
    def tool_calls(self) -> int:
        return self.runtime.tool_calls_made

    @property
    def stream_events(self) -> int:
        return self.runtime.events_received

    @property
    def time_to_first_token_s(self) -> float | None:
        """Time to the first event of the model's response (the name is historical)."""
        first = self.runtime.time_to_first_event_ms
        return None if first is None else first / 1000


class TurnStarted(msgspec.Struct, frozen=True):
    turn_id: str


class AgentMessageDelta(msgspec.Struct, frozen=True):
    delta: str
    #: The Responses item this text belongs to (``msg_…``), when the server named it.
    item_id: str | None = None


class ReasoningDelta(msgspec.Struct, frozen=True):
    delta: str
    item_id: str | None = None
    summary_index: int | None = None


class ReasoningTextDelta(msgspec.Struct, frozen=True):
    """Raw reasoning text (``response.reasoning_text.delta``), not its summary."""

    delta: str
    item_id: str | None = None
    content_index: int | None = None


class ReasoningPartAdded(msgspec.Struct, frozen=True):
    """A new part of a reasoning summary begins (``response.reasoning_summary_part.added``)."""

    item_id: str | None = None
    summary_index: int | None = None


class ModelRerouted(msgspec.Struct, frozen=True):
    """The server answered with another model than the one requested (once per turn)."""

    from_model: str
    to_model: str
    reason: Literal["highRiskCyberActivity"] = "highRiskCyberActivity"


class EnteredReviewMode(msgspec.Struct, frozen=True):
    """A review turn starts; ``hint`` says what is reviewed (e.g. ``current changes``)."""

    hint: str


class ExitedReviewMode(msgspec.Struct, frozen=True):
    """A review turn ended: ``review`` is the rendered result (findings and verdict), or
    ``None`` when it was interrupted or failed before the reviewer answered."""

    review: str | None
    #: The reviewer's answer as structured output (``findings``, ``overall_correctness``...).
    output: dict[str, Any] | None = None


class ItemStarted(msgspec.Struct, frozen=True):
    """The model began an item (``response.output_item.added``); deltas with its id follow."""

    item: ResponseItem


class ItemCompleted(msgspec.Struct, frozen=True):
    """An item the model produced is final (message, reasoning, function call, web search)."""

    item: ResponseItem


class CommandStarted(msgspec.Struct, frozen=True):
    call_id: str
    command: Sequence[str]
    cwd: str
    #: The unified-exec session id of a command started by ``exec_command`` (``None``: ``shell``).
    process_id: str | None = None


class CommandOutputDelta(msgspec.Struct, frozen=True):
    """A chunk of a running command's combined stdout/stderr, as it arrives."""

    call_id: str
    chunk: str


class CommandFinished(msgspec.Struct, frozen=True):
    call_id: str
    command: Sequence[str]
    exit_code: int
    output: str
    duration_s: float
    timed_out: bool = False


class CommandRejected(msgspec.Struct, frozen=True):
    call_id: str
    command: Sequence[str]
    reason: str
    cwd: str = ""
    #: True when a person said no; False when policy refused without asking anyone.
    declined_by_user: bool = False


class FileChange(msgspec.Struct, frozen=True):
    """One file an ``apply_patch`` call adds, deletes or updates (moved to ``move_path``)."""

    path: str
    kind: Literal["add", "delete", "update"]
    #: Unified diff hunks for an update; the whole text for an add or a delete.
    diff: str
    move_path: str | None = None


class PatchStarted(msgspec.Struct, frozen=True):
    """A verified, permitted ``apply_patch`` call starts writing its files."""

    call_id: str
    changes: tuple[FileChange, ...]


class PatchFinished(msgspec.Struct, frozen=True):
    """An ``apply_patch`` call ended: every file written (``completed``), a write failed
    (``failed``), or it was not allowed (``declined``, nothing written); ``output`` is what the
    model is told."""

    call_id: str
    changes: tuple[FileChange, ...]
    status: Literal["completed", "failed", "declined"]
    output: str


class McpToolCallStarted(msgspec.Struct, frozen=True):
    """The session is about to call a tool of an MCP server (approval may still be asked)."""

    call_id: str
    server: str
    tool: str
    arguments: Any


class McpToolCallFinished(msgspec.Struct, frozen=True):
    """An MCP tool call ended: ``result`` is the server's answer (MCP wire form: ``content``,
    ``structuredContent``, ``isError``), or ``error`` says why there is none."""

    call_id: str
    server: str
    tool: str
    arguments: Any
    duration_s: float
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or bool(self.result and self.result.get("isError"))


class ImageViewed(msgspec.Struct, frozen=True):
    """The model was shown a local image (``view_image``); ``path`` is absolute."""

    call_id: str
    path: str


class PlanStep(msgspec.Struct, frozen=True):
    step: str
    status: Literal["pending", "in_progress", "completed"]


class PlanUpdated(msgspec.Struct, frozen=True):
    """The model's plan for the task (an ``update_plan`` call); it replaces the plan before."""

    call_id: str
    explanation: str | None
    steps: tuple[PlanStep, ...]


class RateLimitsUpdated(msgspec.Struct, frozen=True):
    snapshot: RateLimitSnapshot


class ContextCompacted(msgspec.Struct, frozen=True):
    """Older history was replaced by a summary; ``automatic`` when the token limit triggered it."""

    summary: str
    automatic: bool


class TokenCount(msgspec.Struct, frozen=True):
    last: TokenUsage
    total: TokenUsage


class TurnCompleted(msgspec.Struct, frozen=True):
    turn_id: str
    last_agent_message: str | None
    summary: TurnSummary


class TurnFailed(msgspec.Struct, frozen=True):
    turn_id: str
    error: CodexError
    summary: TurnSummary


class TurnInterrupted(msgspec.Struct, frozen=True):
    turn_id: str
    summary: TurnSummary


TurnEvent = (
    TurnStarted
    | AgentMessageDelta
    | ReasoningDelta
    | ReasoningTextDelta
    | ReasoningPartAdded
    | ModelRerouted
    | EnteredReviewMode
    | ExitedReviewMode
    | ItemStarted
    | ItemCompleted
    | CommandStarted
    | CommandOutputDelta
    | CommandFinished
    | CommandRejected
    | PatchStarted
    | PatchFinished
    | McpToolCallStarted
    | McpToolCallFinished
    | PlanUpdated
    | ImageViewed
    | Retrying
    | RateLimitsUpdated
    | TokenCount
    | ContextCompacted
    | WarningEvent
    | TurnCompleted
    | TurnFailed
    | TurnInterrupted
)


if TYPE_CHECKING:
    #: Deprecated: the old name of :class:`WarningEvent` (it shadowed the builtin ``Warning``).
    Warning = WarningEvent


def __getattr__(name: str) -> object:
    # ``Warning`` stays importable for code written against earlier versions; it is not in
    # ``__all__``, so ``import *`` does not shadow the builtin with it.
    if name == "Warning":
        warnings.warn(
            "codex_engine's `Warning` event is deprecated; use `WarningEvent`",
            DeprecationWarning,
            stacklevel=2,
        )
        return WarningEvent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
