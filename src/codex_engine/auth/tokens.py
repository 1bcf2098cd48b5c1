"""Auth as data: the three kinds of credentials, JWT claims, and the `auth.json` document.

Nothing here does I/O. Every secret-bearing field is left out of ``repr`` so a log line or an
exception that happens to format one of these values never shows a token.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

import msgspec

from codex_engine.protocol.secret_repr import SecretRepr

__all__ = [
    "AUTH_CLAIMS_NAMESPACE",
    "ApiKeyAuth",
    "AuthDocument",
    "AuthMode",
    "ChatGptAuth",
    "CodexAuth",
    "ExternalChatGptAuth",
    "TokenClaims",
    "TokenData",
    "format_timestamp",
    "mask_api_key",
    "parse_jwt_claims",
    "parse_timestamp",
]

#: Where OpenAI puts the ChatGPT account claims inside the id/access token payload.
AUTH_CLAIMS_NAMESPACE = "https://api.openai.com/auth"
_PROFILE_NAMESPACE = "https://api.openai.com/profile"


class AuthMode(StrEnum):
    """How requests authenticate. External (app-supplied) tokens are a ChatGPT mode too."""

    API_KEY = "apikey"
    CHATGPT = "chatgpt"


class TokenClaims(msgspec.Struct, frozen=True):
    """The few JWT payload claims codex-engine reads. All optional: tokens vary."""

    email: str | None = None
    plan_type: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    expires_at: datetime | None = None


def _b64url_decode(segment: str) -> bytes:
    # JWTs drop the base64 padding; put it back before decoding.
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def parse_jwt_claims(token: str | None) -> TokenClaims:
    """Claims of a JWT's payload, without checking the signature (the server does that).

    A token that is not a JWT gives empty claims: opaque access tokens exist and are valid.
    """
    if not token:
        return TokenClaims()
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return TokenClaims()
    try:
        payload = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError):
        return TokenClaims()
    if not isinstance(payload, dict):
        return TokenClaims()
    auth = payload.get(AUTH_CLAIMS_NAMESPACE)
    auth = auth if isinstance(auth, dict) else {}
    profile = payload.get(_PROFILE_NAMESPACE)
    profile = profile if isinstance(profile, dict) else {}
    exp = payload.get("exp")
    expires_at = None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):
            expires_at = None
    return TokenClaims(
        email=_str(payload.get("email")) or _str(profile.get("email")),
        plan_type=_str(auth.get("chatgpt_plan_type")),
        account_id=_str(auth.get("chatgpt_account_id")),
        user_id=_str(auth.get("chatgpt_user_id")) or _str(auth.get("user_id")),
        expires_at=expires_at,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as written in `auth.json`, as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.11 accepts at most 6 fractional digits; the reference writes up to 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{tz}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 UTC with a `Z`, the shape the reference writes."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def mask_api_key(key: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if len(key) <= 13:
        return "***"
    return f"{key[:8]}***{key[-5:]}"


class TokenData(SecretRepr, msgspec.Struct, frozen=True):
    """ChatGPT OAuth tokens as stored under `tokens` in `auth.json`."""

    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"id_token", "access_token", "refresh_token"}
    )

    id_token: str
    access_token: str
    refresh_token: str
    account_id: str | None = None

    @property
    def id_claims(self) -> TokenClaims:
        return parse_jwt_claims(self.id_token)

    @property
    def access_claims(self) -> TokenClaims:
        return parse_jwt_claims(self.access_token)


class ApiKeyAuth(SecretRepr, msgspec.Struct, frozen=True):
    """An OpenAI API key."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})

    api_key: str

    @property
    def mode(self) -> AuthMode:
        return AuthMode.API_KEY

    @property
    def bearer(self) -> str:
        return self.api_key

    @property
    def account_id(self) -> str | None:
        return None

    @property
    def email(self) -> str | None:
        return None

    @property
    def plan_type(self) -> str | None:
        return None


class ChatGptAuth(msgspec.Struct, frozen=True):
    """ChatGPT sign-in managed by codex-engine: persisted, and refreshed when it goes stale."""

    tokens: TokenData
    last_refresh: datetime | None = None

    @property
    def mode(self) -> AuthMode:
        return AuthMode.CHATGPT

    @property
    def bearer(self) -> str:
        return self.tokens.access_token

    @property
    def account_id(self) -> str | None:
        return self.tokens.account_id or self.tokens.id_claims.account_id

    @property
    def email(self) -> str | None:
        return self.tokens.id_claims.email

    @property
    def plan_type(self) -> str | None:
        return self.tokens.id_claims.plan_type or self.tokens.access_claims.plan_type

    @property
    def expires_at(self) -> datetime | None:
        return self.tokens.access_claims.expires_at


class ExternalChatGptAuth(SecretRepr, msgspec.Struct, frozen=True):
    """ChatGPT tokens an embedding application supplied: kept in memory, refreshed by the app."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token"})

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None

    @property
    def mode(self) -> AuthMode:
        return AuthMode.CHATGPT

    @property
    def bearer(self) -> str:
        return self.access_token

    @property
    def account_id(self) -> str | None:
        return self.chatgpt_account_id

    @property
    def email(self) -> str | None:
        return parse_jwt_claims(self.access_token).email

    @property
    def plan_type(self) -> str | None:
        return self.chatgpt_plan_type or parse_jwt_claims(self.access_token).plan_type


CodexAuth = ApiKeyAuth | ChatGptAuth | ExternalChatGptAuth


class AuthDocument(SecretRepr, msgspec.Struct, frozen=True):
    """`auth.json` as stored: the reference's field names, so either tool can read the other's.

    ``ChatGptAuth`` wins when tokens are present, else an API key, matching the reference's
    reading of files written without `auth_mode`.
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})

    auth_mode: AuthMode | None = None
    api_key: str | None = None
    tokens: TokenData | None = None
    last_refresh: datetime | None = None

    @classmethod
    def from_auth(cls, auth: ApiKeyAuth | ChatGptAuth) -> AuthDocument:
        if isinstance(auth, ApiKeyAuth):
            return cls(auth_mode=AuthMode.API_KEY, api_key=auth.api_key)
        return cls(auth_mode=AuthMode.CHATGPT, tokens=auth.tokens, last_refresh=auth.last_refresh)

    def to_auth(self) -> ApiKeyAuth | ChatGptAuth | None:
        mode = self.auth_mode
        if mode is None:
            mode = AuthMode.API_KEY if self.tokens is None and self.api_key else AuthMode.CHATGPT
        if mode is AuthMode.API_KEY:
            return ApiKeyAuth(self.api_key) if self.api_key else None
        if self.tokens is None:
            return ApiKeyAuth(self.api_key) if self.api_key else None
        return ChatGptAuth(self.tokens, self.last_refresh)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.auth_mode is not None:
            data["auth_mode"] = self.auth_mode.value
        data["OPENAI_API_KEY"] = self.api_key
        if self.tokens is not None:
            data["tokens"] = {
                "id_token": self.tokens.id_token,
                "access_token": self.tokens.access_token,
                "refresh_token": self.tokens.refresh_token,
                "account_id": self.tokens.account_id,
            }
        if self.last_refresh is not None:
            data["last_refresh"] = format_timestamp(self.last_refresh)
        return data

    @classmethod
    def from_json(cls, data: Any) -> AuthDocument:
        """Parse the document; ValueError names what is wrong (never a value)."""
        if not isinstance(data, dict):
            raise ValueError("the top level is not a JSON object")
        raw_mode = data.get("auth_mode")
        mode: AuthMode | None = None
        if raw_mode is not None:
            # `chatgptAuthTokens` is how the reference marks app-supplied tokens.
            lowered = str(raw_mode).lower()
            if lowered == "apikey":
                mode = AuthMode.API_KEY
            elif lowered in ("chatgpt", "chatgptauthtokens"):
                mode = AuthMode.CHATGPT
            else:
                raise ValueError(f"unknown auth_mode {str(raw_mode)[:40]!r}")
        api_key = data.get("OPENAI_API_KEY")
        if api_key is not None and not isinstance(api_key, str):
            raise ValueError("OPENAI_API_KEY is not a string")
        tokens = None
        raw_tokens = data.get("tokens")
        if raw_tokens is not None:
            if not isinstance(raw_tokens, dict):
                raise ValueError("tokens is not an object")
            values: dict[str, str] = {}
            for name in ("id_token", "access_token", "refresh_token"):
                value = raw_tokens.get(name)
                if not isinstance(value, str):
                    raise ValueError(f"tokens.{name} is missing or not a string")
                values[name] = value
            account = raw_tokens.get("account_id")
            if account is not None and not isinstance(account, str):
                raise ValueError("tokens.account_id is not a string")
            tokens = TokenData(account_id=account, **values)
        last_refresh = None
        if data.get("last_refresh") is not None:
            last_refresh = parse_timestamp(data.get("last_refresh"))
            if last_refresh is None:
                raise ValueError("last_refresh is not an RFC 3339 timestamp")
        return cls(auth_mode=mode, api_key=api_key, tokens=tokens, last_refresh=last_refresh)
