"""Credentials: API keys and ChatGPT sign-in, their storage, refresh and the `AuthManager`."""

from codex_engine.auth.manager import (
    AuthManager,
    ExternalAuthRefresher,
    ForcedLoginMethod,
)
from codex_engine.auth.recovery import RecoveryStep, UnauthorizedRecovery
from codex_engine.auth.refresh import (
    RefreshFailure,
    RefreshRejectedError,
    RefreshUnavailableError,
)
from codex_engine.auth.storage import AuthStore, FileAuthStore, StoreMode
from codex_engine.auth.tokens import (
    ApiKeyAuth,
    AuthDocument,
    AuthMode,
    ChatGptAuth,
    CodexAuth,
    ExternalChatGptAuth,
    TokenClaims,
    TokenData,
    mask_api_key,
    parse_jwt_claims,
)

__all__ = [
    "ApiKeyAuth",
    "AuthDocument",
    "AuthManager",
    "AuthMode",
    "AuthStore",
    "ChatGptAuth",
    "CodexAuth",
    "ExternalAuthRefresher",
    "ExternalChatGptAuth",
    "FileAuthStore",
    "ForcedLoginMethod",
    "RecoveryStep",
    "RefreshFailure",
    "RefreshRejectedError",
    "RefreshUnavailableError",
    "StoreMode",
    "TokenClaims",
    "TokenData",
    "UnauthorizedRecovery",
    "mask_api_key",
    "parse_jwt_claims",
]
