"""codex-engine: the core of the Codex coding agent in Python.

The names below are the public, supported surface; everything else may change.
"""

from codex_engine._version import __version__
from codex_engine.client.credentials import (
    Credentials,
    CredentialSource,
    EnvKeyCredentials,
    StaticCredentials,
)
from codex_engine.client.model_client import ClientEvent, ModelClient, ModelClientSession
from codex_engine.config.catalog import ModelInfo, find_model_info, list_models
from codex_engine.config.features import Features, Stage
from codex_engine.config.loader import Config, load_config
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
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
    Warning,
)
from codex_engine.core.launch import open_session, settings_from_config
from codex_engine.core.session import ApprovalRequest, Approver, Session, SessionSettings
from codex_engine.errors import (
    ApiError,
    AuthError,
    CodexError,
    ConfigError,
    ConnectionFailedError,
    ContextWindowExceededError,
    RefreshTokenFailedError,
    StreamError,
    TransportError,
    TurnInterruptedError,
    UsageLimitReachedError,
)
from codex_engine.protocol.events import TokenUsage
from codex_engine.protocol.request import Prompt, RequestContext

__all__ = [
    "AgentMessageDelta",
    "ApiError",
    "ApprovalRequest",
    "Approver",
    "AuthError",
    "ClientEvent",
    "CodexError",
    "CommandFinished",
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
    "SessionSettings",
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
    "Warning",
    "__version__",
    "find_model_info",
    "list_models",
    "load_config",
    "open_session",
    "settings_from_config",
]
