"""codex-engine: the core of the Codex coding agent in Python.

The names in ``__all__`` are the public, supported surface; everything else may change. They
are loaded on first use, so importing one submodule (the CLI, say) does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from codex_engine._version import __version__

if TYPE_CHECKING:
    from codex_engine.client.credentials import (
        Credentials,
        CredentialSource,
        EnvKeyCredentials,
        StaticCredentials,
    )
    from codex_engine.client.model_client import (
        ClientEvent,
        ModelClient,
        ModelClientSession,
    )
    from codex_engine.config.catalog import (
        ModelInfo,
        find_model_info,
        list_models,
    )
    from codex_engine.config.features import (
        Features,
        Stage,
    )
    from codex_engine.config.loader import (
        Config,
        load_config,
    )
    from codex_engine.config.providers import (
        ModelProviderInfo,
    )
    from codex_engine.core.events import (
        AgentMessageDelta,
        CommandFinished,
        CommandOutputDelta,
        CommandRejected,
        CommandStarted,
        ItemCompleted,
        RateLimitsUpdated,
        ReasoningDelta,
        Retrying,
        TokenCount,
        TurnCompleted,
        TurnEvent,
        TurnFailed,
        TurnInterrupted,
        TurnStarted,
        TurnSummary,
        WarningEvent,
    )
    from codex_engine.core.launch import (
        open_session,
        settings_from_config,
    )
    from codex_engine.core.session import (
        ApprovalRequest,
        Approver,
        Session,
        SessionDeps,
        SessionSettings,
        SettingsChange,
    )
    from codex_engine.errors import (
        ApiError,
        AuthError,
        CodexError,
        ConfigError,
        ConnectionFailedError,
        ContextWindowExceededError,
        RefreshTokenFailedError,
        SessionLockedError,
        StreamError,
        TransportError,
        TurnInterruptedError,
        UsageLimitReachedError,
    )
    from codex_engine.protocol.events import (
        TokenUsage,
    )
    from codex_engine.protocol.request import (
        Prompt,
        RequestContext,
    )

_LAZY: dict[str, str] = {
    "Credentials": "codex_engine.client.credentials",
    "CredentialSource": "codex_engine.client.credentials",
    "EnvKeyCredentials": "codex_engine.client.credentials",
    "StaticCredentials": "codex_engine.client.credentials",
    "ClientEvent": "codex_engine.client.model_client",
    "ModelClient": "codex_engine.client.model_client",
    "ModelClientSession": "codex_engine.client.model_client",
    "ModelInfo": "codex_engine.config.catalog",
    "find_model_info": "codex_engine.config.catalog",
    "list_models": "codex_engine.config.catalog",
    "Features": "codex_engine.config.features",
    "Stage": "codex_engine.config.features",
    "Config": "codex_engine.config.loader",
    "load_config": "codex_engine.config.loader",
    "ModelProviderInfo": "codex_engine.config.providers",
    "AgentMessageDelta": "codex_engine.core.events",
    "CommandFinished": "codex_engine.core.events",
    "CommandOutputDelta": "codex_engine.core.events",
    "CommandRejected": "codex_engine.core.events",
    "CommandStarted": "codex_engine.core.events",
    "ItemCompleted": "codex_engine.core.events",
    "RateLimitsUpdated": "codex_engine.core.events",
    "ReasoningDelta": "codex_engine.core.events",
    "Retrying": "codex_engine.core.events",
    "TokenCount": "codex_engine.core.events",
    "TurnCompleted": "codex_engine.core.events",
    "TurnEvent": "codex_engine.core.events",
    "TurnFailed": "codex_engine.core.events",
    "TurnInterrupted": "codex_engine.core.events",
    "TurnStarted": "codex_engine.core.events",
    "TurnSummary": "codex_engine.core.events",
    "Warning": "codex_engine.core.events",  # deprecated alias of WarningEvent; not in __all__
    "WarningEvent": "codex_engine.core.events",
    "open_session": "codex_engine.core.launch",
    "settings_from_config": "codex_engine.core.launch",
    "ApprovalRequest": "codex_engine.core.session",
    "Approver": "codex_engine.core.session",
    "Session": "codex_engine.core.session",
    "SessionDeps": "codex_engine.core.session",
    "SessionSettings": "codex_engine.core.session",
    "SettingsChange": "codex_engine.core.session",
    "ApiError": "codex_engine.errors",
    "AuthError": "codex_engine.errors",
    "CodexError": "codex_engine.errors",
    "ConfigError": "codex_engine.errors",
    "ConnectionFailedError": "codex_engine.errors",
    "ContextWindowExceededError": "codex_engine.errors",
    "RefreshTokenFailedError": "codex_engine.errors",
    "SessionLockedError": "codex_engine.errors",
    "StreamError": "codex_engine.errors",
    "TransportError": "codex_engine.errors",
    "TurnInterruptedError": "codex_engine.errors",
    "UsageLimitReachedError": "codex_engine.errors",
    "TokenUsage": "codex_engine.protocol.events",
    "Prompt": "codex_engine.protocol.request",
    "RequestContext": "codex_engine.protocol.request",
}

__all__ = [
    "AgentMessageDelta",
    "ApiError",
    "ApprovalRequest",
    "Approver",
    "AuthError",
    "ClientEvent",
    "CodexError",
    "CommandFinished",
    "CommandOutputDelta",
    "CommandRejected",
    "CommandStarted",
    "Config",
    "ConfigError",
    "ConnectionFailedError",
    "ContextWindowExceededError",
    "CredentialSource",
    "Credentials",
    "EnvKeyCredentials",
    "Features",
    "ItemCompleted",
    "ModelClient",
    "ModelClientSession",
    "ModelInfo",
    "ModelProviderInfo",
    "Prompt",
    "RateLimitsUpdated",
    "ReasoningDelta",
    "RefreshTokenFailedError",
    "RequestContext",
    "Retrying",
    "Session",
    "SessionDeps",
    "SessionLockedError",
    "SessionSettings",
    "SettingsChange",
    "Stage",
    "StaticCredentials",
    "StreamError",
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
    "UsageLimitReachedError",
    "WarningEvent",
    "__version__",
    "find_model_info",
    "list_models",
    "load_config",
    "open_session",
    "settings_from_config",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
