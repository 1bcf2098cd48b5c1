"""Pydantic models of the app-server v2 messages codex-engine implements (camelCase on the wire).

Params models validate what clients send (strict types, unknown fields ignored); the other models
are what the server emits, shaped to validate against the reference app-server JSON schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from codex_engine.protocol.app_server_mcp import McpToolCallItem

__all__ = [
    "LOGIN_PARAMS",
    "AccountLoginCompletedNotification",
    "AccountRateLimitsUpdatedNotification",
    "AccountUpdatedNotification",
    "AgentMessageDeltaNotification",
    "AgentMessageItem",
    "ApiKeyLoginParams",
    "CancelLoginAccountParams",
    "ChatgptAuthTokensLoginParams",
    "ChatgptAuthTokensRefreshResult",
    "ChatgptDeviceCodeLoginParams",
    "ChatgptLoginParams",
    "ClientInfo",
    "CommandExecutionItem",
    "CommandExecutionOutputDeltaNotification",
    "CommandExecutionRequestApprovalParams",
    "ConfigWarningNotification",
    "ContextCompactionItem",
    "CreditsSnapshotWire",
    "ErrorNotification",
    "GetAccountParams",
    "InitializeCapabilities",
    "InitializeParams",
    "InitializeResponse",
    "ItemCompletedNotification",
    "ItemStartedNotification",
    "LoginParams",
    "ModelInfoWire",
    "ModelListParams",
    "ModelListResponse",
    "RateLimitSnapshotWire",
    "RateLimitWindowWire",
    "ReasoningEffortOption",
    "ReasoningItem",
    "ReasoningSummaryPartAddedNotification",
    "ReasoningSummaryTextDeltaNotification",
    "ServerRequestResolvedNotification",
    "Thread",
    "ThreadForkParams",
    "ThreadIdNotification",
    "ThreadIdParams",
    "ThreadItem",
    "ThreadListParams",
    "ThreadListResponse",
    "ThreadNameUpdatedNotification",
    "ThreadReadParams",
    "ThreadReadResponse",
    "ThreadResumeParams",
    "ThreadResumeResponse",
    "ThreadSetNameParams",
    "ThreadStartParams",
    "ThreadStartResponse",
    "ThreadStartedNotification",
    "ThreadStatusChangedNotification",
    "ThreadTokenUsage",
    "ThreadTokenUsageUpdatedNotification",
    "ThreadUnarchiveResponse",
    "TokenUsageBreakdown",
    "Turn",
    "TurnCompletedNotification",
    "TurnError",
    "TurnInterruptParams",
    "TurnStartParams",
    "TurnStartResponse",
    "TurnStartedNotification",
    "TurnStatus",
    "TurnSteerParams",
    "UserMessageItem",
    "WarningNotification",
    "WebSearchItem",
    "active_status",
    "idle_status",
]

ApprovalPolicyName = Literal["untrusted", "on-failure", "on-request", "never"]
ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]
SandboxModeName = Literal["read-only", "workspace-write", "danger-full-access"]
TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]


class _Params(BaseModel):
    """What a client sends: strict JSON types, unknown (newer or experimental) fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True, frozen=True
    )


class _Out(BaseModel):
    """What the server sends; ``to_wire`` keeps nulls because the schema requires some of them."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


# -- initialize --------------------------------------------------------------------------------


class ClientInfo(_Params):
    name: str
    version: str
    title: str | None = None


class InitializeCapabilities(_Params):
    experimental_api: bool = False
    opt_out_notification_methods: list[str] | None = None


class InitializeParams(_Params):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = None


class InitializeResponse(_Out):
    user_agent: str
    codex_home: str
    platform_family: str
    platform_os: str


# -- client requests ---------------------------------------------------------------------------


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


class TurnStartParams(_Params):
    thread_id: str
    input: list[dict[str, Any]]
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


class TurnInterruptParams(_Params):
    thread_id: str
    turn_id: str


class TurnSteerParams(_Params):
    thread_id: str
    expected_turn_id: str
    input: list[dict[str, Any]]


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


class GetAccountParams(_Params):
    refresh_token: bool = False


class CancelLoginAccountParams(_Params):
    login_id: str


class ApiKeyLoginParams(_Params):
    type: Literal["apiKey"]
    api_key: str


class ChatgptLoginParams(_Params):
    type: Literal["chatgpt"]
    app_brand: str | None = None
    use_hosted_login_success_page: bool | None = None
    codex_streamlined_login: bool | None = None


class ChatgptDeviceCodeLoginParams(_Params):
    type: Literal["chatgptDeviceCode"]


class ChatgptAuthTokensLoginParams(_Params):
    type: Literal["chatgptAuthTokens"]
    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


LoginParams = (
    ApiKeyLoginParams
    | ChatgptLoginParams
    | ChatgptDeviceCodeLoginParams
    | ChatgptAuthTokensLoginParams
)

#: ``type`` of ``account/login/start`` params -> the model that validates them.
LOGIN_PARAMS: dict[str, type[_Params]] = {
    "apiKey": ApiKeyLoginParams,
    "chatgpt": ChatgptLoginParams,
    "chatgptDeviceCode": ChatgptDeviceCodeLoginParams,
    "chatgptAuthTokens": ChatgptAuthTokensLoginParams,
}


class ChatgptAuthTokensRefreshResult(_Params):
    """The client's answer to ``account/chatgptAuthTokens/refresh``."""

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


class ModelListParams(_Params):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    include_hidden: bool | None = None


# -- threads, turns, items ---------------------------------------------------------------------


def idle_status() -> dict[str, Any]:
    return {"type": "idle"}


def active_status(*, waiting_on_approval: bool = False) -> dict[str, Any]:
    return {"type": "active", "activeFlags": ["waitingOnApproval"] if waiting_on_approval else []}


class UserMessageItem(_Out):
    type: Literal["userMessage"] = "userMessage"
    id: str
    client_id: str | None = None
    #: UserInput values as the client sent them (``text_elements`` stays snake_case on the wire).
    content: list[dict[str, Any]]


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
    status: Literal["inProgress", "completed", "failed", "declined"]
    command_actions: list[dict[str, Any]]
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None


class WebSearchItem(_Out):
    type: Literal["webSearch"] = "webSearch"
    id: str
    query: str
    action: dict[str, Any] | None = None


class ContextCompactionItem(_Out):
    type: Literal["contextCompaction"] = "contextCompaction"
    id: str


ThreadItem = (
    UserMessageItem
    | AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | WebSearchItem
    | ContextCompactionItem
    | McpToolCallItem
)


class TurnError(_Out):
    message: str
    #: A CodexErrorInfo: a camelCase string, or a one-key object such as ``httpConnectionFailed``.
    codex_error_info: str | dict[str, Any] | None = None
    additional_details: str | None = None


class Turn(_Out):
    id: str
    items: list[ThreadItem] = Field(default_factory=list)
    items_view: Literal["notLoaded", "summary", "full"] = "full"
    status: TurnStatus
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


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


# -- responses ---------------------------------------------------------------------------------


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


class TurnStartResponse(_Out):
    turn: Turn


class ThreadReadResponse(_Out):
    thread: Thread


class ReasoningEffortOption(_Out):
    reasoning_effort: str
    description: str


class ModelInfoWire(_Out):
    """One ``model/list`` entry (the schema's ``Model``)."""

    id: str
    model: str
    upgrade: str | None = None
    display_name: str
    description: str
    hidden: bool
    supported_reasoning_efforts: list[ReasoningEffortOption]
    default_reasoning_effort: str
    input_modalities: list[str]
    supports_personality: bool = False
    is_default: bool


class ModelListResponse(_Out):
    data: list[ModelInfoWire]
    next_cursor: str | None = None


# -- notifications -----------------------------------------------------------------------------


class ThreadStartedNotification(_Out):
    thread: Thread


class ThreadStatusChangedNotification(_Out):
    thread_id: str
    status: dict[str, Any]


class TurnStartedNotification(_Out):
    thread_id: str
    turn: Turn


class TurnCompletedNotification(_Out):
    thread_id: str
    turn: Turn


class ItemStartedNotification(_Out):
    thread_id: str
    turn_id: str
    item: ThreadItem
    started_at_ms: int


class ItemCompletedNotification(_Out):
    thread_id: str
    turn_id: str
    item: ThreadItem
    completed_at_ms: int


class AgentMessageDeltaNotification(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ReasoningSummaryPartAddedNotification(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    summary_index: int


class ReasoningSummaryTextDeltaNotification(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    summary_index: int


class TokenUsageBreakdown(_Out):
    total_tokens: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int


class ThreadTokenUsage(_Out):
    total: TokenUsageBreakdown
    last: TokenUsageBreakdown
    model_context_window: int | None = None


class ThreadTokenUsageUpdatedNotification(_Out):
    thread_id: str
    turn_id: str
    token_usage: ThreadTokenUsage


class CommandExecutionOutputDeltaNotification(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ErrorNotification(_Out):
    thread_id: str
    turn_id: str
    error: TurnError
    will_retry: bool


class WarningNotification(_Out):
    message: str
    thread_id: str | None = None


class ConfigWarningNotification(_Out):
    summary: str
    details: str | None = None


class ThreadIdNotification(_Out):
    """``thread/archived`` and ``thread/unarchived``."""

    thread_id: str


class ThreadNameUpdatedNotification(_Out):
    thread_id: str
    thread_name: str | None = None


class AccountUpdatedNotification(_Out):
    auth_mode: str | None = None
    plan_type: str | None = None


class AccountLoginCompletedNotification(_Out):
    login_id: str | None = None
    success: bool
    error: str | None = None


class RateLimitWindowWire(_Out):
    used_percent: int
    window_duration_mins: int | None = None
    resets_at: int | None = None


class CreditsSnapshotWire(_Out):
    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshotWire(_Out):
    limit_id: str | None = None
    limit_name: str | None = None
    primary: RateLimitWindowWire | None = None
    secondary: RateLimitWindowWire | None = None
    credits: CreditsSnapshotWire | None = None
    plan_type: str | None = None


class AccountRateLimitsUpdatedNotification(_Out):
    rate_limits: RateLimitSnapshotWire


class ServerRequestResolvedNotification(_Out):
    thread_id: str
    request_id: str | int


# -- server requests ---------------------------------------------------------------------------


class CommandExecutionRequestApprovalParams(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    command: str | None = None
    cwd: str | None = None
    reason: str | None = None
    command_actions: list[dict[str, Any]] | None = None
    #: A command prefix the client may approve for good (``acceptWithExecpolicyAmendment``).
    proposed_execpolicy_amendment: list[str] | None = None
    #: The decisions the client may offer, in order (experimental in the reference schema).
    available_decisions: list[str | dict[str, Any]] | None = None
