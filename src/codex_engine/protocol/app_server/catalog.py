"""Which message types belong to which app-server method, under the reference's type names.

The generated schema (``app-server generate-json-schema``) is built from these tables, so they
list exactly what codex-engine implements; a test keeps them in step with the method registry.
"""

from dataclasses import dataclass
from typing import Any

from codex_engine.protocol.app_server._base import EmptyResponse
from codex_engine.protocol.app_server.accounts import (
    AccountLoginCompletedNotification,
    AccountRateLimitsUpdatedNotification,
    AccountUpdatedNotification,
    CancelLoginAccountParams,
    CancelLoginAccountResponse,
    ChatgptAuthTokensRefreshParams,
    ChatgptAuthTokensRefreshResult,
    GetAccountParams,
    GetAccountRateLimitsResponse,
    GetAccountResponse,
    LoginAccountResponse,
    LoginParams,
)
from codex_engine.protocol.app_server.approvals import (
    CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse,
    ServerRequestResolvedNotification,
    ToolRequestUserInputParams,
    ToolRequestUserInputResponse,
)
from codex_engine.protocol.app_server.command_exec import (
    CommandExecOutputDeltaNotification,
    CommandExecParams,
    CommandExecProcessParams,
    CommandExecResizeParams,
    CommandExecResponse,
    CommandExecWriteParams,
    ThreadShellCommandParams,
)
from codex_engine.protocol.app_server.config import (
    ConfigBatchWriteParams,
    ConfigReadParams,
    ConfigReadResponse,
    ConfigRequirementsReadResponse,
    ConfigValueWriteParams,
    ConfigWriteResponse,
    ExperimentalFeatureEnablementSetParams,
    ExperimentalFeatureEnablementSetResponse,
    ExperimentalFeatureListParams,
    ExperimentalFeatureListResponse,
    ModelProviderCapabilitiesReadResponse,
    PermissionProfileListParams,
    PermissionProfileListResponse,
)
from codex_engine.protocol.app_server.fs import (
    FsChangedNotification,
    FsCopyParams,
    FsCreateDirectoryParams,
    FsGetMetadataResponse,
    FsPathParams,
    FsReadDirectoryResponse,
    FsReadFileResponse,
    FsRemoveParams,
    FsUnwatchParams,
    FsWatchParams,
    FsWatchResponse,
    FsWriteFileParams,
    FuzzyFileSearchParams,
    FuzzyFileSearchResponse,
)
from codex_engine.protocol.app_server.goals import (
    ThreadGoalClearedNotification,
    ThreadGoalClearParams,
    ThreadGoalClearResponse,
    ThreadGoalGetResponse,
    ThreadGoalSetParams,
    ThreadGoalSetResponse,
    ThreadGoalUpdatedNotification,
)
from codex_engine.protocol.app_server.initialize import InitializeParams, InitializeResponse
from codex_engine.protocol.app_server.mcp import (
    ListMcpServerStatusParams,
    ListMcpServerStatusResponse,
    McpResourceReadParams,
    McpResourceReadResponse,
    McpServerToolCallParams,
    McpServerToolCallResponse,
)
from codex_engine.protocol.app_server.models import ModelListParams, ModelListResponse
from codex_engine.protocol.app_server.notifications import (
    AgentMessageDeltaNotification,
    CommandExecutionOutputDeltaNotification,
    ConfigWarningNotification,
    DeprecationNoticeNotification,
    ErrorNotification,
    ItemCompletedNotification,
    ItemStartedNotification,
    ModelReroutedNotification,
    ReasoningSummaryPartAddedNotification,
    ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification,
    ThreadIdNotification,
    ThreadNameUpdatedNotification,
    ThreadSettingsUpdatedNotification,
    ThreadStartedNotification,
    ThreadStatusChangedNotification,
    ThreadTokenUsageUpdatedNotification,
    TurnCompletedNotification,
    TurnStartedNotification,
    WarningNotification,
)
from codex_engine.protocol.app_server.review import ReviewStartParams, ReviewStartResponse
from codex_engine.protocol.app_server.thread_admin import (
    ThreadClosedNotification,
    ThreadDeletedNotification,
    ThreadLoadedListParams,
    ThreadLoadedListResponse,
    ThreadUnsubscribeResponse,
)
from codex_engine.protocol.app_server.thread_history import (
    ThreadInjectItemsParams,
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadMetadataUpdateParams,
    ThreadMetadataUpdateResponse,
    ThreadRevertedNotification,
    ThreadRevertParams,
    ThreadRevertResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
)
from codex_engine.protocol.app_server.threads import (
    ThreadForkParams,
    ThreadIdParams,
    ThreadListParams,
    ThreadListResponse,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadResumeResponse,
    ThreadSetNameParams,
    ThreadStartParams,
    ThreadStartResponse,
    ThreadUnarchiveResponse,
)
from codex_engine.protocol.app_server.turns import (
    TurnInterruptParams,
    TurnStartParams,
    TurnStartResponse,
    TurnSteerParams,
    TurnSteerResponse,
)

__all__ = [
    "CLIENT_REQUESTS",
    "ROOT_TYPES",
    "SERVER_NOTIFICATIONS",
    "SERVER_REQUESTS",
    "V1_TYPES",
    "Message",
    "RequestShape",
]


@dataclass(frozen=True)
class Message:
    """One message shape: the reference's type name and the model (or union) that declares it."""

    name: str
    model: Any


@dataclass(frozen=True)
class RequestShape:
    #: ``None`` for a method that takes no params (``account/logout``).
    params: Message | None
    result: Message


def _shape(params: str | None, params_model: Any, result: str, result_model: Any) -> RequestShape:
    return RequestShape(
        Message(params, params_model) if params is not None else None,
        Message(result, result_model),
    )


#: The client requests codex-engine serves. Experimental-only fields are marked on the models.
CLIENT_REQUESTS: dict[str, RequestShape] = {
    "mcpServerStatus/list": _shape(
        "ListMcpServerStatusParams",
        ListMcpServerStatusParams,
        "ListMcpServerStatusResponse",
        ListMcpServerStatusResponse,
    ),
    "mcpServer/tool/call": _shape(
        "McpServerToolCallParams",
        McpServerToolCallParams,
        "McpServerToolCallResponse",
        McpServerToolCallResponse,
    ),
    "mcpServer/resource/read": _shape(
        "McpResourceReadParams",
        McpResourceReadParams,
        "McpResourceReadResponse",
        McpResourceReadResponse,
    ),
    "config/mcpServer/reload": _shape(None, None, "McpServerRefreshResponse", EmptyResponse),
    "initialize": _shape(
        "InitializeParams", InitializeParams, "InitializeResponse", InitializeResponse
    ),
    "thread/start": _shape(
        "ThreadStartParams", ThreadStartParams, "ThreadStartResponse", ThreadStartResponse
    ),
    "thread/resume": _shape(
        "ThreadResumeParams", ThreadResumeParams, "ThreadResumeResponse", ThreadResumeResponse
    ),
    "thread/fork": _shape(
        "ThreadForkParams", ThreadForkParams, "ThreadForkResponse", ThreadResumeResponse
    ),
    "thread/archive": _shape(
        "ThreadArchiveParams", ThreadIdParams, "ThreadArchiveResponse", EmptyResponse
    ),
    "thread/unarchive": _shape(
        "ThreadUnarchiveParams", ThreadIdParams, "ThreadUnarchiveResponse", ThreadUnarchiveResponse
    ),
    "thread/name/set": _shape(
        "ThreadSetNameParams", ThreadSetNameParams, "ThreadSetNameResponse", EmptyResponse
    ),
    "thread/compact/start": _shape(
        "ThreadCompactStartParams", ThreadIdParams, "ThreadCompactStartResponse", EmptyResponse
    ),
    "thread/list": _shape(
        "ThreadListParams", ThreadListParams, "ThreadListResponse", ThreadListResponse
    ),
    "thread/read": _shape(
        "ThreadReadParams", ThreadReadParams, "ThreadReadResponse", ThreadReadResponse
    ),
    "thread/loaded/list": _shape(
        "ThreadLoadedListParams",
        ThreadLoadedListParams,
        "ThreadLoadedListResponse",
        ThreadLoadedListResponse,
    ),
    "thread/unsubscribe": _shape(
        "ThreadUnsubscribeParams",
        ThreadIdParams,
        "ThreadUnsubscribeResponse",
        ThreadUnsubscribeResponse,
    ),
    "thread/delete": _shape(
        "ThreadDeleteParams", ThreadIdParams, "ThreadDeleteResponse", EmptyResponse
    ),
    "thread/goal/set": _shape(
        "ThreadGoalSetParams", ThreadGoalSetParams, "ThreadGoalSetResponse", ThreadGoalSetResponse
    ),
    "thread/goal/get": _shape(
        "ThreadGoalGetParams", ThreadIdParams, "ThreadGoalGetResponse", ThreadGoalGetResponse
    ),
    "thread/goal/clear": _shape(
        "ThreadGoalClearParams",
        ThreadGoalClearParams,
        "ThreadGoalClearResponse",
        ThreadGoalClearResponse,
    ),
    "thread/turns/list": _shape(
        "ThreadTurnsListParams",
        ThreadTurnsListParams,
        "ThreadTurnsListResponse",
        ThreadTurnsListResponse,
    ),
    "thread/items/list": _shape(
        "ThreadItemsListParams",
        ThreadItemsListParams,
        "ThreadItemsListResponse",
        ThreadItemsListResponse,
    ),
    "thread/metadata/update": _shape(
        "ThreadMetadataUpdateParams",
        ThreadMetadataUpdateParams,
        "ThreadMetadataUpdateResponse",
        ThreadMetadataUpdateResponse,
    ),
    "thread/revert": _shape(
        "ThreadRevertParams", ThreadRevertParams, "ThreadRevertResponse", ThreadRevertResponse
    ),
    "thread/inject_items": _shape(
        "ThreadInjectItemsParams",
        ThreadInjectItemsParams,
        "ThreadInjectItemsResponse",
        EmptyResponse,
    ),
    "turn/start": _shape(
        "TurnStartParams", TurnStartParams, "TurnStartResponse", TurnStartResponse
    ),
    "review/start": _shape(
        "ReviewStartParams", ReviewStartParams, "ReviewStartResponse", ReviewStartResponse
    ),
    "turn/interrupt": _shape(
        "TurnInterruptParams", TurnInterruptParams, "TurnInterruptResponse", EmptyResponse
    ),
    "turn/steer": _shape(
        "TurnSteerParams", TurnSteerParams, "TurnSteerResponse", TurnSteerResponse
    ),
    "model/list": _shape(
        "ModelListParams", ModelListParams, "ModelListResponse", ModelListResponse
    ),
    "account/read": _shape(
        "GetAccountParams", GetAccountParams, "GetAccountResponse", GetAccountResponse
    ),
    "account/login/start": _shape(
        "LoginAccountParams", LoginParams, "LoginAccountResponse", LoginAccountResponse
    ),
    "account/login/cancel": _shape(
        "CancelLoginAccountParams",
        CancelLoginAccountParams,
        "CancelLoginAccountResponse",
        CancelLoginAccountResponse,
    ),
    "account/logout": _shape(None, None, "LogoutAccountResponse", EmptyResponse),
    "account/rateLimits/read": _shape(
        None, None, "GetAccountRateLimitsResponse", GetAccountRateLimitsResponse
    ),
    "config/read": _shape(
        "ConfigReadParams", ConfigReadParams, "ConfigReadResponse", ConfigReadResponse
    ),
    "config/value/write": _shape(
        "ConfigValueWriteParams", ConfigValueWriteParams, "ConfigWriteResponse", ConfigWriteResponse
    ),
    "config/batchWrite": _shape(
        "ConfigBatchWriteParams", ConfigBatchWriteParams, "ConfigWriteResponse", ConfigWriteResponse
    ),
    "configRequirements/read": _shape(
        None, None, "ConfigRequirementsReadResponse", ConfigRequirementsReadResponse
    ),
    "experimentalFeature/list": _shape(
        "ExperimentalFeatureListParams",
        ExperimentalFeatureListParams,
        "ExperimentalFeatureListResponse",
        ExperimentalFeatureListResponse,
    ),
    "experimentalFeature/enablement/set": _shape(
        "ExperimentalFeatureEnablementSetParams",
        ExperimentalFeatureEnablementSetParams,
        "ExperimentalFeatureEnablementSetResponse",
        ExperimentalFeatureEnablementSetResponse,
    ),
    "permissionProfile/list": _shape(
        "PermissionProfileListParams",
        PermissionProfileListParams,
        "PermissionProfileListResponse",
        PermissionProfileListResponse,
    ),
    "fs/readFile": _shape(
        "FsReadFileParams", FsPathParams, "FsReadFileResponse", FsReadFileResponse
    ),
    "fs/writeFile": _shape(
        "FsWriteFileParams", FsWriteFileParams, "FsWriteFileResponse", EmptyResponse
    ),
    "fs/createDirectory": _shape(
        "FsCreateDirectoryParams",
        FsCreateDirectoryParams,
        "FsCreateDirectoryResponse",
        EmptyResponse,
    ),
    "fs/getMetadata": _shape(
        "FsGetMetadataParams", FsPathParams, "FsGetMetadataResponse", FsGetMetadataResponse
    ),
    "fs/readDirectory": _shape(
        "FsReadDirectoryParams", FsPathParams, "FsReadDirectoryResponse", FsReadDirectoryResponse
    ),
    "fs/remove": _shape("FsRemoveParams", FsRemoveParams, "FsRemoveResponse", EmptyResponse),
    "fs/copy": _shape("FsCopyParams", FsCopyParams, "FsCopyResponse", EmptyResponse),
    "fs/watch": _shape("FsWatchParams", FsWatchParams, "FsWatchResponse", FsWatchResponse),
    "fs/unwatch": _shape("FsUnwatchParams", FsUnwatchParams, "FsUnwatchResponse", EmptyResponse),
    "fuzzyFileSearch": _shape(
        "FuzzyFileSearchParams",
        FuzzyFileSearchParams,
        "FuzzyFileSearchResponse",
        FuzzyFileSearchResponse,
    ),
    "thread/shellCommand": _shape(
        "ThreadShellCommandParams",
        ThreadShellCommandParams,
        "ThreadShellCommandResponse",
        EmptyResponse,
    ),
    "command/exec": _shape(
        "CommandExecParams", CommandExecParams, "CommandExecResponse", CommandExecResponse
    ),
    "command/exec/write": _shape(
        "CommandExecWriteParams",
        CommandExecWriteParams,
        "CommandExecWriteResponse",
        EmptyResponse,
    ),
    "command/exec/terminate": _shape(
        "CommandExecTerminateParams",
        CommandExecProcessParams,
        "CommandExecTerminateResponse",
        EmptyResponse,
    ),
    "command/exec/resize": _shape(
        "CommandExecResizeParams",
        CommandExecResizeParams,
        "CommandExecResizeResponse",
        EmptyResponse,
    ),
    "modelProvider/capabilities/read": _shape(
        None, None, "ModelProviderCapabilitiesReadResponse", ModelProviderCapabilitiesReadResponse
    ),
}

#: What the server notifies, method -> params.
SERVER_NOTIFICATIONS: dict[str, Message] = {
    method: Message(model.__name__ if name is None else name, model)
    for method, name, model in (
        ("error", None, ErrorNotification),
        ("warning", None, WarningNotification),
        ("configWarning", None, ConfigWarningNotification),
        ("deprecationNotice", None, DeprecationNoticeNotification),
        ("model/rerouted", None, ModelReroutedNotification),
        ("thread/started", None, ThreadStartedNotification),
        ("thread/status/changed", None, ThreadStatusChangedNotification),
        ("thread/archived", "ThreadArchivedNotification", ThreadIdNotification),
        ("thread/unarchived", "ThreadUnarchivedNotification", ThreadIdNotification),
        ("thread/name/updated", None, ThreadNameUpdatedNotification),
        ("thread/settings/updated", None, ThreadSettingsUpdatedNotification),
        ("thread/deleted", None, ThreadDeletedNotification),
        ("thread/closed", None, ThreadClosedNotification),
        ("thread/reverted", None, ThreadRevertedNotification),
        ("thread/goal/updated", None, ThreadGoalUpdatedNotification),
        ("thread/goal/cleared", None, ThreadGoalClearedNotification),
        ("fs/changed", None, FsChangedNotification),
        ("command/exec/outputDelta", None, CommandExecOutputDeltaNotification),
        ("thread/tokenUsage/updated", None, ThreadTokenUsageUpdatedNotification),
        ("turn/started", None, TurnStartedNotification),
        ("turn/completed", None, TurnCompletedNotification),
        ("item/started", None, ItemStartedNotification),
        ("item/completed", None, ItemCompletedNotification),
        ("item/agentMessage/delta", None, AgentMessageDeltaNotification),
        ("item/reasoning/summaryTextDelta", None, ReasoningSummaryTextDeltaNotification),
        ("item/reasoning/summaryPartAdded", None, ReasoningSummaryPartAddedNotification),
        ("item/reasoning/textDelta", None, ReasoningTextDeltaNotification),
        ("item/commandExecution/outputDelta", None, CommandExecutionOutputDeltaNotification),
        ("serverRequest/resolved", None, ServerRequestResolvedNotification),
        ("account/updated", None, AccountUpdatedNotification),
        ("account/login/completed", None, AccountLoginCompletedNotification),
        ("account/rateLimits/updated", None, AccountRateLimitsUpdatedNotification),
    )
}

#: What the server asks the client, method -> (params, the client's answer).
SERVER_REQUESTS: dict[str, RequestShape] = {
    "item/commandExecution/requestApproval": RequestShape(
        Message("CommandExecutionRequestApprovalParams", CommandExecutionRequestApprovalParams),
        Message("CommandExecutionRequestApprovalResponse", CommandExecutionRequestApprovalResponse),
    ),
    "item/tool/requestUserInput": RequestShape(
        Message("ToolRequestUserInputParams", ToolRequestUserInputParams),
        Message("ToolRequestUserInputResponse", ToolRequestUserInputResponse),
    ),
    "account/chatgptAuthTokens/refresh": RequestShape(
        Message("ChatgptAuthTokensRefreshParams", ChatgptAuthTokensRefreshParams),
        Message("ChatgptAuthTokensRefreshResponse", ChatgptAuthTokensRefreshResult),
    ),
}

#: Types the reference keeps in ``v1/`` (the handshake predates the v2 protocol).
V1_TYPES = frozenset({"InitializeParams", "InitializeResponse"})
#: Types the reference keeps at the top of the schema directory: the server's requests.
ROOT_TYPES = frozenset(
    message.name
    for shape in SERVER_REQUESTS.values()
    for message in (shape.params, shape.result)
    if message is not None
)
