"""Turns: ``turn/start``, ``turn/interrupt``, ``turn/steer`` and the ``Turn`` object."""

from typing import Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import (
    ApprovalPolicyName,
    ApprovalsReviewer,
    _Out,
    _Params,
)
from codex_engine.protocol.app_server.items import ThreadItem

__all__ = [
    "Turn",
    "TurnError",
    "TurnInterruptParams",
    "TurnStartParams",
    "TurnStartResponse",
    "TurnStatus",
    "TurnSteerParams",
    "TurnSteerResponse",
    "TurnToolOutput",
]


TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]


class TurnToolOutput(_Params, frozen=True, kw_only=True):
    """Output of a tool that ran outside the thread, delivered as the turn's opening input."""

    name: str
    namespace: str | None = None
    output: str | list[dict[str, Any]]
    #: The reference keeps the output in the thread's history whatever this says; so do we.
    retain: bool | None = None


class TurnStartParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    input: list[dict[str, Any]]
    #: Opens the turn instead of ``input`` (which must then be empty).
    tool_output: TurnToolOutput | None = None
    #: A label for what started the turn (sent as ``turn_trigger`` in the turn metadata).
    turn_trigger: str | None = None
    #: The service tier of this turn's requests only; ``"default"`` asks for none.
    service_tier_for_turn: str | None = None
    model: str | None = None
    effort: str | None = None
    summary: str | None = None
    cwd: str | None = None
    approval_policy: ApprovalPolicyName | dict[str, Any] | None = None
    approvals_reviewer: ApprovalsReviewer | None = None
    sandbox_policy: dict[str, Any] | None = None
    personality: str | None = None
    output_schema: Any = None
    service_tier: str | None = None
    client_user_message_id: str | None = None


class TurnInterruptParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    turn_id: str


class TurnSteerParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    expected_turn_id: str
    input: list[dict[str, Any]]
    client_user_message_id: str | None = None


class TurnSteerResponse(_Out, kw_only=True):
    turn_id: str


class TurnError(_Out, kw_only=True):
    message: str
    #: A CodexErrorInfo: a camelCase string, or a one-key object such as ``httpConnectionFailed``.
    codex_error_info: str | dict[str, Any] | None = None
    additional_details: str | None = None


class Turn(_Out, kw_only=True):
    id: str
    #: The first turn of the chain of work this turn belongs to (itself, for a user's turn).
    root_turn_id: str | None = None
    items: list[ThreadItem] = msgspec.field(default_factory=list)
    items_view: Literal["notLoaded", "summary", "full"] = "full"
    status: TurnStatus
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


class TurnStartResponse(_Out, kw_only=True):
    turn: Turn
