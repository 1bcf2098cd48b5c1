"""codex-engine: the core of the Codex coding agent in Python.

The names in ``__all__`` are the public, supported surface; everything else may change. They
are loaded on first use, so importing one submodule (the CLI, say) does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from codex_engine._version import __version__ as __version__

#: The public surface, and the one list to edit: each name -> the module it is loaded from on
#: first use. ``__all__`` and the ``TYPE_CHECKING`` imports (for mypy and IDEs) below are written
#: from it by ``scripts/gen_exports.py``; tests/test_public_api.py fails when they are stale.
_EXPORTS: dict[str, str] = {
    # Sessions: open, resume or fork one, run turns, answer approvals.
    "open_session": "codex_engine.core.launch",
    "resume_session": "codex_engine.core.launch",
    "fork_session": "codex_engine.core.launch",
    "settings_from_config": "codex_engine.core.launch",
    "Session": "codex_engine.core.session",
    "SessionSettings": "codex_engine.core.settings",
    "SessionDeps": "codex_engine.core.session",
    "SettingsChange": "codex_engine.core.settings",
    "Approver": "codex_engine.core.approvals",
    "ApprovalRequest": "codex_engine.core.approvals",
    # What a turn yields (the TurnEvent union and each of its members).
    "TurnEvent": "codex_engine.core.events",
    "TurnStarted": "codex_engine.core.events",
    "AgentMessageDelta": "codex_engine.core.events",
    "ReasoningDelta": "codex_engine.core.events",
    "ReasoningTextDelta": "codex_engine.core.events",
    "ReasoningPartAdded": "codex_engine.core.events",
    "ModelRerouted": "codex_engine.core.events",
    "EnteredReviewMode": "codex_engine.core.events",
    "ExitedReviewMode": "codex_engine.core.events",
    "ItemStarted": "codex_engine.core.events",
    "ItemCompleted": "codex_engine.core.events",
    "CommandStarted": "codex_engine.core.events",
    "PatchStarted": "codex_engine.core.events",
    "PlanStep": "codex_engine.core.events",
    "ImageViewed": "codex_engine.core.events",
    "PlanUpdated": "codex_engine.core.events",
    "PatchFinished": "codex_engine.core.events",
    "FileChange": "codex_engine.core.events",
    "CommandOutputDelta": "codex_engine.core.events",
    "CommandFinished": "codex_engine.core.events",
    "CommandRejected": "codex_engine.core.events",
    "McpToolCallStarted": "codex_engine.core.events",
    "McpToolCallFinished": "codex_engine.core.events",
    "Retrying": "codex_engine.core.events",
    "RateLimitsUpdated": "codex_engine.core.events",
    "TokenCount": "codex_engine.core.events",
    "ContextCompacted": "codex_engine.core.events",
    "WarningEvent": "codex_engine.core.events",
    "TurnCompleted": "codex_engine.core.events",
    "TurnFailed": "codex_engine.core.events",
    "TurnInterrupted": "codex_engine.core.events",
    "TurnSummary": "codex_engine.core.events",
    "TokenUsage": "codex_engine.protocol.events",
    # Configuration.
    "Config": "codex_engine.config.loader",
    "load_config": "codex_engine.config.loader",
    "Features": "codex_engine.config.features",
    "Stage": "codex_engine.config.features",
    "ModelInfo": "codex_engine.config.catalog",
    "find_model_info": "codex_engine.config.catalog",
    "list_models": "codex_engine.config.catalog",
    "ModelProviderInfo": "codex_engine.config.providers",
    # Credentials.
    "AuthManager": "codex_engine.auth.manager",
    "Credentials": "codex_engine.client.credentials",
    "CredentialSource": "codex_engine.client.credentials",
    "EnvKeyCredentials": "codex_engine.client.credentials",
    "StaticCredentials": "codex_engine.client.credentials",
    # The model client, for requests without a session.
    "ModelClient": "codex_engine.client.model_client",
    "ModelClientSession": "codex_engine.client.model_client",
    "ClientEvent": "codex_engine.client.model_client",
    "Prompt": "codex_engine.protocol.request",
    "RequestContext": "codex_engine.protocol.request",
    # Errors: every CodexError (the tree is drawn in codex_engine/errors.py).
    "CodexError": "codex_engine.errors",
    "ConfigEditError": "codex_engine.errors",
    "ConfigError": "codex_engine.errors",
    "InputError": "codex_engine.errors",
    "AuthError": "codex_engine.errors",
    "RefreshTokenFailedError": "codex_engine.errors",
    "RefreshRejectedError": "codex_engine.errors",
    "RefreshFailure": "codex_engine.errors",
    "TransportError": "codex_engine.errors",
    "ConnectionFailedError": "codex_engine.errors",
    "RequestTimeoutError": "codex_engine.errors",
    "StreamError": "codex_engine.errors",
    "RefreshUnavailableError": "codex_engine.errors",
    "FallbackToHttpError": "codex_engine.errors",
    "ApiError": "codex_engine.errors",
    "UnauthorizedError": "codex_engine.errors",
    "ContextWindowExceededError": "codex_engine.errors",
    "QuotaExceededError": "codex_engine.errors",
    "UsageNotIncludedError": "codex_engine.errors",
    "UsageLimitReachedError": "codex_engine.errors",
    "InvalidRequestError": "codex_engine.errors",
    "ServerOverloadedError": "codex_engine.errors",
    "RetryLimitError": "codex_engine.errors",
    "InternalServerError": "codex_engine.errors",
    "UnexpectedStatusError": "codex_engine.errors",
    "ProtocolError": "codex_engine.errors",
    "PatchError": "codex_engine.errors",
    "SessionLockedError": "codex_engine.errors",
    "RolloutError": "codex_engine.errors",
    "ThreadNotFoundError": "codex_engine.errors",
    "TurnInterruptedError": "codex_engine.errors",
    "JsonRpcError": "codex_engine.errors",
    "ConnectionClosedError": "codex_engine.errors",
    "InvalidParamsError": "codex_engine.errors",
    "InvalidRpcRequestError": "codex_engine.errors",
    "NotSupportedError": "codex_engine.errors",
    "McpStartupError": "codex_engine.errors",
    "McpCallError": "codex_engine.errors",
    "ProcessStartError": "codex_engine.errors",
}

# BEGIN generated by scripts/gen_exports.py from _EXPORTS: do not edit by hand.
if TYPE_CHECKING:
    from codex_engine.auth.manager import AuthManager as AuthManager
    from codex_engine.client.credentials import Credentials as Credentials
    from codex_engine.client.credentials import CredentialSource as CredentialSource
    from codex_engine.client.credentials import EnvKeyCredentials as EnvKeyCredentials
    from codex_engine.client.credentials import StaticCredentials as StaticCredentials
    from codex_engine.client.model_client import ClientEvent as ClientEvent
    from codex_engine.client.model_client import ModelClient as ModelClient
    from codex_engine.client.model_client import ModelClientSession as ModelClientSession
    from codex_engine.config.catalog import ModelInfo as ModelInfo
    from codex_engine.config.catalog import find_model_info as find_model_info
    from codex_engine.config.catalog import list_models as list_models
    from codex_engine.config.features import Features as Features
    from codex_engine.config.features import Stage as Stage
    from codex_engine.config.loader import Config as Config
    from codex_engine.config.loader import load_config as load_config
    from codex_engine.config.providers import ModelProviderInfo as ModelProviderInfo
    from codex_engine.core.approvals import ApprovalRequest as ApprovalRequest
    from codex_engine.core.approvals import Approver as Approver
    from codex_engine.core.events import AgentMessageDelta as AgentMessageDelta
    from codex_engine.core.events import CommandFinished as CommandFinished
    from codex_engine.core.events import CommandOutputDelta as CommandOutputDelta
    from codex_engine.core.events import CommandRejected as CommandRejected
    from codex_engine.core.events import CommandStarted as CommandStarted
    from codex_engine.core.events import ContextCompacted as ContextCompacted
    from codex_engine.core.events import EnteredReviewMode as EnteredReviewMode
    from codex_engine.core.events import ExitedReviewMode as ExitedReviewMode
    from codex_engine.core.events import FileChange as FileChange
    from codex_engine.core.events import ImageViewed as ImageViewed
    from codex_engine.core.events import ItemCompleted as ItemCompleted
    from codex_engine.core.events import ItemStarted as ItemStarted
    from codex_engine.core.events import McpToolCallFinished as McpToolCallFinished
    from codex_engine.core.events import McpToolCallStarted as McpToolCallStarted
    from codex_engine.core.events import ModelRerouted as ModelRerouted
    from codex_engine.core.events import PatchFinished as PatchFinished
    from codex_engine.core.events import PatchStarted as PatchStarted
    from codex_engine.core.events import PlanStep as PlanStep
    from codex_engine.core.events import PlanUpdated as PlanUpdated
    from codex_engine.core.events import RateLimitsUpdated as RateLimitsUpdated
    from codex_engine.core.events import ReasoningDelta as ReasoningDelta
    from codex_engine.core.events import ReasoningPartAdded as ReasoningPartAdded
    from codex_engine.core.events import ReasoningTextDelta as ReasoningTextDelta
    from codex_engine.core.events import Retrying as Retrying
    from codex_engine.core.events import TokenCount as TokenCount
    from codex_engine.core.events import TurnCompleted as TurnCompleted
    from codex_engine.core.events import TurnEvent as TurnEvent
    from codex_engine.core.events import TurnFailed as TurnFailed
    from codex_engine.core.events import TurnInterrupted as TurnInterrupted
    from codex_engine.core.events import TurnStarted as TurnStarted
    from codex_engine.core.events import TurnSummary as TurnSummary
    from codex_engine.core.events import WarningEvent as WarningEvent
    from codex_engine.core.launch import fork_session as fork_session
    from codex_engine.core.launch import open_session as open_session
    from codex_engine.core.launch import resume_session as resume_session
    from codex_engine.core.launch import settings_from_config as settings_from_config
    from codex_engine.core.session import Session as Session
    from codex_engine.core.session import SessionDeps as SessionDeps
    from codex_engine.core.settings import SessionSettings as SessionSettings
    from codex_engine.core.settings import SettingsChange as SettingsChange
    from codex_engine.errors import ApiError as ApiError
    from codex_engine.errors import AuthError as AuthError
    from codex_engine.errors import CodexError as CodexError
    from codex_engine.errors import ConfigEditError as ConfigEditError
    from codex_engine.errors import ConfigError as ConfigError
    from codex_engine.errors import ConnectionClosedError as ConnectionClosedError
    from codex_engine.errors import ConnectionFailedError as ConnectionFailedError
    from codex_engine.errors import ContextWindowExceededError as ContextWindowExceededError
    from codex_engine.errors import FallbackToHttpError as FallbackToHttpError
    from codex_engine.errors import InputError as InputError
    from codex_engine.errors import InternalServerError as InternalServerError
    from codex_engine.errors import InvalidParamsError as InvalidParamsError
    from codex_engine.errors import InvalidRequestError as InvalidRequestError
    from codex_engine.errors import InvalidRpcRequestError as InvalidRpcRequestError
    from codex_engine.errors import JsonRpcError as JsonRpcError
    from codex_engine.errors import McpCallError as McpCallError
    from codex_engine.errors import McpStartupError as McpStartupError
    from codex_engine.errors import NotSupportedError as NotSupportedError
    from codex_engine.errors import PatchError as PatchError
    from codex_engine.errors import ProcessStartError as ProcessStartError
    from codex_engine.errors import ProtocolError as ProtocolError
    from codex_engine.errors import QuotaExceededError as QuotaExceededError
    from codex_engine.errors import RefreshFailure as RefreshFailure
    from codex_engine.errors import RefreshRejectedError as RefreshRejectedError
    from codex_engine.errors import RefreshTokenFailedError as RefreshTokenFailedError
    from codex_engine.errors import RefreshUnavailableError as RefreshUnavailableError
    from codex_engine.errors import RequestTimeoutError as RequestTimeoutError
    from codex_engine.errors import RetryLimitError as RetryLimitError
    from codex_engine.errors import RolloutError as RolloutError
    from codex_engine.errors import ServerOverloadedError as ServerOverloadedError
    from codex_engine.errors import SessionLockedError as SessionLockedError
    from codex_engine.errors import StreamError as StreamError
    from codex_engine.errors import ThreadNotFoundError as ThreadNotFoundError
    from codex_engine.errors import TransportError as TransportError
    from codex_engine.errors import TurnInterruptedError as TurnInterruptedError
    from codex_engine.errors import UnauthorizedError as UnauthorizedError
    from codex_engine.errors import UnexpectedStatusError as UnexpectedStatusError
    from codex_engine.errors import UsageLimitReachedError as UsageLimitReachedError
    from codex_engine.errors import UsageNotIncludedError as UsageNotIncludedError
    from codex_engine.protocol.events import TokenUsage as TokenUsage
    from codex_engine.protocol.request import Prompt as Prompt
    from codex_engine.protocol.request import RequestContext as RequestContext

__all__ = [
    "AgentMessageDelta",
    "ApiError",
    "ApprovalRequest",
    "Approver",
    "AuthError",
    "AuthManager",
    "ClientEvent",
    "CodexError",
    "CommandFinished",
    "CommandOutputDelta",
    "CommandRejected",
    "CommandStarted",
    "Config",
    "ConfigEditError",
    "ConfigError",
    "ConnectionClosedError",
    "ConnectionFailedError",
    "ContextCompacted",
    "ContextWindowExceededError",
    "CredentialSource",
    "Credentials",
    "EnteredReviewMode",
    "EnvKeyCredentials",
    "ExitedReviewMode",
    "FallbackToHttpError",
    "Features",
    "FileChange",
    "ImageViewed",
    "InputError",
    "InternalServerError",
    "InvalidParamsError",
    "InvalidRequestError",
    "InvalidRpcRequestError",
    "ItemCompleted",
    "ItemStarted",
    "JsonRpcError",
    "McpCallError",
    "McpStartupError",
    "McpToolCallFinished",
    "McpToolCallStarted",
    "ModelClient",
    "ModelClientSession",
    "ModelInfo",
    "ModelProviderInfo",
    "ModelRerouted",
    "NotSupportedError",
    "PatchError",
    "PatchFinished",
    "PatchStarted",
    "PlanStep",
    "PlanUpdated",
    "ProcessStartError",
    "Prompt",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitsUpdated",
    "ReasoningDelta",
    "ReasoningPartAdded",
    "ReasoningTextDelta",
    "RefreshFailure",
    "RefreshRejectedError",
    "RefreshTokenFailedError",
    "RefreshUnavailableError",
    "RequestContext",
    "RequestTimeoutError",
    "RetryLimitError",
    "Retrying",
    "RolloutError",
    "ServerOverloadedError",
    "Session",
    "SessionDeps",
    "SessionLockedError",
    "SessionSettings",
    "SettingsChange",
    "Stage",
    "StaticCredentials",
    "StreamError",
    "ThreadNotFoundError",
    "TokenCount",
    "TokenUsage",
    "TransportError",
    "TurnCompleted",
    "TurnEvent",
    "TurnFailed",
    "TurnInterrupted",
    "TurnInterruptedError",
    "TurnStarted",
    "TurnSummary",
    "UnauthorizedError",
    "UnexpectedStatusError",
    "UsageLimitReachedError",
    "UsageNotIncludedError",
    "WarningEvent",
    "__version__",
    "find_model_info",
    "fork_session",
    "list_models",
    "load_config",
    "open_session",
    "resume_session",
    "settings_from_config",
]
# END generated.


#: Old names still importable (each module warns on use); not in ``__all__``.
_DEPRECATED: dict[str, str] = {
    "Warning": "codex_engine.core.events",  # now WarningEvent: it shadowed the builtin
}


def __getattr__(name: str) -> Any:
    # Lazy loading (PEP 562): the first use of a name imports its module, then it is cached.
    if name in _DEPRECATED:
        # Not cached, so every use goes through the module's own deprecation warning.
        return getattr(importlib.import_module(_DEPRECATED[name]), name)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
