"""Threads: the ``thread/*`` requests, the ``Thread`` object and the responses that carry it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import (
    ApprovalPolicyName,
    ApprovalsReviewer,
    SandboxModeName,
    _Out,
    _Params,
)
from codex_engine.protocol.app_server.turns import Turn

__all__ = [
    "Thread",
    "ThreadForkParams",
    "ThreadIdParams",
    "ThreadListParams",
    "ThreadListResponse",
    "ThreadReadParams",
    "ThreadReadResponse",
    "ThreadResumeParams",
    "ThreadResumeResponse",
    "ThreadSetNameParams",
    "ThreadStartParams",
    "ThreadStartResponse",
    "ThreadUnarchiveResponse",
    "active_status",
    "idle_status",
]


class _ThreadSettingsParams(_Params):
    """What thread/start, thread/resume and thread/fork all accept to shape the session."""

    model: str | None = None
    model_provider: str | None = None
    cwd: str | None = None
    approval_policy: ApprovalPolicyName | dict[str, Any] | None = None
    approvals_reviewer: ApprovalsReviewer | None = None
    sandbox: SandboxModeName | None = None
    config: dict[str, Any] | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    personality: str | None = None
    service_tier: str | None = None


class ThreadStartParams(_ThreadSettingsParams):
    ephemeral: bool | None = None
    service_name: str | None = None
    session_start_source: str | None = None
    thread_source: Any = None


class ThreadReadParams(_Params):
    thread_id: str
    include_turns: bool = False


class ThreadIdParams(_Params):
    thread_id: str


class ThreadResumeParams(_ThreadSettingsParams):
    thread_id: str
    exclude_turns: bool = False


class ThreadForkParams(ThreadResumeParams):
    last_turn_id: str | None = None
    ephemeral: bool | None = None
    thread_source: Any = None


class ThreadListParams(_Params):
    archived: bool | None = None
    cursor: str | None = None
    cwd: str | list[str] | None = None
    excluded_thread_ids: list[str] | None = None
    limit: int | None = Field(default=None, ge=0)
    model_providers: list[str] | None = None
    search_term: str | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    sort_key: Literal["created_at", "updated_at", "recency_at", "section_position"] | None = None
    source_kinds: list[str] | None = None


class ThreadSetNameParams(_Params):
    thread_id: str
    name: str


def idle_status() -> dict[str, Any]:
    return {"type": "idle"}


def active_status(*, waiting_on_approval: bool = False) -> dict[str, Any]:
    return {"type": "active", "activeFlags": ["waitingOnApproval"] if waiting_on_approval else []}


class Thread(_Out):
    id: str
    session_id: str
    preview: str
    ephemeral: bool
    model_provider: str
    model: str | None
    reasoning_effort: str | None = None
    created_at: int
    updated_at: int
    status: dict[str, Any]
    path: str | None = None
    cwd: str
    cli_version: str
    source: str = "appServer"
    originator: str | None = None
    project_id: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git_info: dict[str, Any] | None = None
    name: str | None = None
    turns: list[Turn] = Field(default_factory=list)


class ThreadStartResponse(_Out):
    thread: Thread
    model: str
    model_provider: str
    service_tier: str | None = None
    cwd: str
    instruction_sources: list[str] = Field(default_factory=list)
    approval_policy: str | dict[str, Any]
    approvals_reviewer: str
    sandbox: dict[str, Any]
    reasoning_effort: str | None = None
    disabled_plugin_ids: list[str] = Field(default_factory=list)


class ThreadResumeResponse(ThreadStartResponse):
    """Also the shape of ``thread/fork``'s response."""


class ThreadListResponse(_Out):
    data: list[Thread]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ThreadUnarchiveResponse(_Out):
    thread: Thread


class ThreadReadResponse(_Out):
    thread: Thread
