"""Credentials: API keys and ChatGPT sign-in, their storage, refresh and the `AuthManager`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_engine._lazy import lazy_exports

if TYPE_CHECKING:
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

#: Where each name lives, loaded on first use (PEP 562): a session on an API key needs neither
#: the sign-in flows nor httpx's refresh client, and a module of this package imports only its own.
_EXPORTS: dict[str, str] = {
    "AuthManager": "manager",
    "ExternalAuthRefresher": "manager",
    "ForcedLoginMethod": "manager",
    "RecoveryStep": "recovery",
    "UnauthorizedRecovery": "recovery",
    "RefreshFailure": "refresh",
    "RefreshRejectedError": "refresh",
    "RefreshUnavailableError": "refresh",
    "AuthStore": "storage",
    "FileAuthStore": "storage",
    "StoreMode": "storage",
    "ApiKeyAuth": "tokens",
    "AuthDocument": "tokens",
    "AuthMode": "tokens",
    "ChatGptAuth": "tokens",
    "CodexAuth": "tokens",
    "ExternalChatGptAuth": "tokens",
    "TokenClaims": "tokens",
    "TokenData": "tokens",
    "mask_api_key": "tokens",
    "parse_jwt_claims": "tokens",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
