"""Thread, turn and item notifications the server streams while threads run."""

from typing import Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import _Out
from codex_engine.protocol.app_server.items import ThreadItem
from codex_engine.protocol.app_server.runtime import RuntimeSummaryWire
from codex_engine.protocol.app_server.threads import Thread
from codex_engine.protocol.app_server.turns import Turn, TurnError

__all__ = [
    "AgentMessageDeltaNotification",
    "CommandExecutionOutputDeltaNotification",
    "ConfigWarningNotification",
    "DeprecationNoticeNotification",
    "ErrorNotification",
    "ItemCompletedNotification",
    "ItemStartedNotification",
    "ModelReroutedNotification",
    "ReasoningSummaryPartAddedNotification",
    "ReasoningSummaryTextDeltaNotification",
    "ReasoningTextDeltaNotification",
    "ThreadIdNotification",
    "ThreadNameUpdatedNotification",
    "ThreadSettings",
    "ThreadSettingsUpdatedNotification",
    "ThreadStartedNotification",
    "ThreadStatusChangedNotification",
    "ThreadTokenUsage",
    "ThreadTokenUsageUpdatedNotification",
    "TokenUsageBreakdown",
    "TurnCompletedNotification",
    "TurnPlanStep",
    "TurnPlanUpdatedNotification",
    "TurnStartedNotification",
    "WarningNotification",
]


class ThreadStartedNotification(_Out, kw_only=True):
    thread: Thread


class ThreadStatusChangedNotification(_Out, kw_only=True):
    thread_id: str
    status: dict[str, Any]


class TurnStartedNotification(_Out, kw_only=True):
    thread_id: str
    turn: Turn


class TurnCompletedNotification(_Out, kw_only=True):
    thread_id: str
    turn: Turn
    #: codex-engine's extension: what the turn spent (absent for a compaction).
    runtime_summary: RuntimeSummaryWire | None = None

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        if self.runtime_summary is None:
            del wire["runtimeSummary"]
        return wire


class TurnPlanStep(_Out, kw_only=True):
    step: str
    status: Literal["pending", "inProgress", "completed"]


class TurnPlanUpdatedNotification(_Out, kw_only=True):
    """``turn/plan/updated``: the model's current plan (its ``update_plan`` call)."""

    thread_id: str
    turn_id: str
    explanation: str | None = None
    plan: list[TurnPlanStep]


class ItemStartedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item: ThreadItem
    started_at_ms: int


class ItemCompletedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item: ThreadItem
    completed_at_ms: int


class AgentMessageDeltaNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ReasoningSummaryPartAddedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item_id: str
    summary_index: int


class ReasoningTextDeltaNotification(_Out, kw_only=True):
    """Raw reasoning text (not its summary), by content part."""

    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    content_index: int


class ModelReroutedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    from_model: str
    to_model: str
    reason: Literal["highRiskCyberActivity"]


class DeprecationNoticeNotification(_Out, kw_only=True):
    summary: str
    details: str | None = None


class ReasoningSummaryTextDeltaNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    summary_index: int


class TokenUsageBreakdown(_Out, kw_only=True):
    total_tokens: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int


class ThreadTokenUsage(_Out, kw_only=True):
    total: TokenUsageBreakdown
    last: TokenUsageBreakdown
    model_context_window: int | None = None


class ThreadTokenUsageUpdatedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    token_usage: ThreadTokenUsage


class CommandExecutionOutputDeltaNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ErrorNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str
    error: TurnError
    will_retry: bool


class WarningNotification(_Out, kw_only=True):
    message: str
    thread_id: str | None = None


class ConfigWarningNotification(_Out, kw_only=True):
    summary: str
    details: str | None = None


class ThreadIdNotification(_Out, kw_only=True):
    """``thread/archived`` and ``thread/unarchived``."""

    thread_id: str


class ThreadNameUpdatedNotification(_Out, kw_only=True):
    thread_id: str
    thread_name: str | None = None


class ThreadSettings(_Out, kw_only=True):
    """A thread's settings as ``thread/settings/updated`` reports them."""

    cwd: str
    approval_policy: str | dict[str, Any]
    approvals_reviewer: str
    sandbox_policy: dict[str, Any]
    model: str
    model_provider: str
    service_tier: str | None = None
    effort: str | None = None
    summary: str | None = None
    #: Always the default mode: codex-engine has no plan mode.
    collaboration_mode: dict[str, Any]
    disabled_plugin_ids: list[str] = msgspec.field(default_factory=list)


class ThreadSettingsUpdatedNotification(_Out, kw_only=True):
    """Sent when a ``turn/start`` changes the thread's settings (model, effort, policies...)."""

    thread_id: str
    thread_settings: ThreadSettings
