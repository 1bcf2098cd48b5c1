"""Threads: the ``thread/*`` requests, the ``Thread`` object and the responses that carry it."""

from typing import Annotated, Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import (
    EXPERIMENTAL_FIELD,
    ApprovalPolicyName,
    ApprovalsReviewer,
    NonNegative,
    SandboxModeName,
    _Out,
    _Params,
)
from codex_engine.protocol.app_server.turns import Turn

__all__ = [
    "Thread",
    "ThreadEnvironment",
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


class _ThreadSettingsParams(_Params, frozen=True, kw_only=True):
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


class ThreadStartParams(_ThreadSettingsParams, frozen=True, kw_only=True):
    ephemeral: bool | None = None
    service_name: str | None = None
    session_start_source: str | None = None
    thread_source: Any = None


class ThreadReadParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    include_turns: bool = False


class ThreadIdParams(_Params, frozen=True, kw_only=True):
    thread_id: str


class ThreadResumeParams(_ThreadSettingsParams, frozen=True, kw_only=True):
    thread_id: str
    exclude_turns: bool = False


class ThreadForkParams(ThreadResumeParams, frozen=True, kw_only=True):
    last_turn_id: str | None = None
    ephemeral: bool | None = None
    thread_source: Any = None


class ThreadListParams(_Params, frozen=True, kw_only=True):
    archived: bool | None = None
    cursor: str | None = None
    cwd: str | list[str] | None = None
    excluded_thread_ids: list[str] | None = None
    limit: Annotated[int, NonNegative] | None = None
    model_providers: list[str] | None = None
    search_term: str | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    sort_key: Literal["created_at", "updated_at", "recency_at", "section_position"] | None = None
    source_kinds: list[str] | None = None


class ThreadSetNameParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    name: str


def idle_status() -> dict[str, Any]:
    return {"type": "idle"}


def active_status(
    *, waiting_on_approval: bool = False, waiting_on_user_input: bool = False
) -> dict[str, Any]:
    flags = ["waitingOnApproval"] if waiting_on_approval else []
    if waiting_on_user_input:
        flags.append("waitingOnUserInput")
    return {"type": "active", "activeFlags": flags}


#: The one environment codex-engine runs a thread's commands in: this machine.
LOCAL_ENVIRONMENT = "local"


class ThreadEnvironment(_Out, kw_only=True):
    """Where a loaded thread's work runs: its cwd and the roots ``:workspace_roots`` means."""

    environment_id: str = LOCAL_ENVIRONMENT
    cwd: str
    runtime_workspace_roots: list[str]


class Thread(_Out, kw_only=True):
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
    turns: list[Turn] = msgspec.field(default_factory=list)
    #: When the thread was last active (ordering by recency): its last update.
    recency_at: int | None = None
    #: As 0.163 reports every thread: its history pages with ``thread/turns/list`` and
    #: ``thread/items/list`` (full hydration with ``includeTurns`` is deprecated).
    history_mode: Literal["legacy", "paginated"] = "paginated"
    #: The client's analytics label for the thread (``threadSource`` of thread/start).
    thread_source: str | None = None
    #: A loaded thread's environments (``None``: not loaded).
    environments: Annotated[list[ThreadEnvironment] | None, EXPERIMENTAL_FIELD] = None


class ThreadStartResponse(_Out, kw_only=True):
    thread: Thread
    model: str
    model_provider: str
    service_tier: str | None = None
    cwd: str
    instruction_sources: list[str] = msgspec.field(default_factory=list)
    approval_policy: str | dict[str, Any]
    approvals_reviewer: str
    sandbox: dict[str, Any]
    reasoning_effort: str | None = None
    disabled_plugin_ids: list[str] = msgspec.field(default_factory=list)
    #: The roots ``:workspace_roots`` stands for in this thread (its cwd).
    runtime_workspace_roots: Annotated[list[str], EXPERIMENTAL_FIELD] = msgspec.field(
        default_factory=list
    )
    #: codex-engine has no named permission profiles: none produced the active permissions.
    active_permission_profile: Annotated[dict[str, Any] | None, EXPERIMENTAL_FIELD] = None


class ThreadResumeResponse(ThreadStartResponse, kw_only=True):
    """Also the shape of ``thread/fork``'s response."""


class ThreadListResponse(_Out, kw_only=True):
    data: list[Thread]
    next_cursor: str | None = None
    backwards_cursor: str | None = None
    #: ``None``: codex-engine keeps no durable read state (nothing is marked read or unread).
    read_states: Annotated[dict[str, Any] | None, EXPERIMENTAL_FIELD] = None


class ThreadUnarchiveResponse(_Out, kw_only=True):
    thread: Thread


class ThreadReadResponse(_Out, kw_only=True):
    thread: Thread
    #: ``None``: codex-engine keeps no durable read state for the thread.
    read_state: Annotated[dict[str, Any] | None, EXPERIMENTAL_FIELD] = None
