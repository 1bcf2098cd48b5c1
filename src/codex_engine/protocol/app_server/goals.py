"""Thread goals: ``thread/goal/set``, ``thread/goal/get``, ``thread/goal/clear`` and the
``thread/goal/updated`` / ``thread/goal/cleared`` notifications."""

from typing import Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "ThreadGoalClearParams",
    "ThreadGoalClearResponse",
    "ThreadGoalClearedNotification",
    "ThreadGoalGetResponse",
    "ThreadGoalSetParams",
    "ThreadGoalSetResponse",
    "ThreadGoalUpdatedNotification",
    "ThreadGoalWire",
]

ThreadGoalStatusName = Literal[
    "active", "paused", "blocked", "usageLimited", "budgetLimited", "complete"
]


class ThreadGoalSetParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    objective: str | None = None
    status: ThreadGoalStatusName | None = None
    #: Absent: unchanged; ``null``: no budget; a number: the new budget.
    token_budget: int | msgspec.UnsetType | None = msgspec.UNSET
    origin: Literal["user", "automatic"] | None = None


class ThreadGoalClearParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    origin: Literal["user", "automatic"] | None = None


class ThreadGoalWire(_Out, kw_only=True):
    thread_id: str
    objective: str
    status: ThreadGoalStatusName
    token_budget: int | None = None
    tokens_used: int
    time_used_seconds: int
    created_at: int
    updated_at: int


class ThreadGoalSetResponse(_Out, kw_only=True):
    goal: ThreadGoalWire


class ThreadGoalGetResponse(_Out, kw_only=True):
    goal: ThreadGoalWire | None = None


class ThreadGoalClearResponse(_Out, kw_only=True):
    cleared: bool


class ThreadGoalUpdatedNotification(_Out, kw_only=True):
    thread_id: str
    turn_id: str | None = None
    goal: ThreadGoalWire


class ThreadGoalClearedNotification(_Out, kw_only=True):
    thread_id: str


def goal_wire(data: dict[str, Any]) -> ThreadGoalWire:
    """The core goal's JSON (already camelCase) as the wire model."""
    return msgspec.convert(data, ThreadGoalWire)
