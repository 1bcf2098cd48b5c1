"""Redeeming a ChatGPT refresh token at the OAuth token endpoint (SPEC §4.5).

A 401 from the endpoint is permanent (the user has to sign in again); anything else is transient.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

# The errors live in the one tree; they stay importable from here.
from codex_engine.errors import RefreshFailure, RefreshRejectedError, RefreshUnavailableError
from codex_engine.protocol.secret_repr import SecretRepr

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CLIENT_ID",
    "DEFAULT_ISSUER",
    "REFRESH_TOKEN_URL",
    "REFRESH_URL_ENV",
    "RefreshFailure",
    "RefreshRejectedError",
    "RefreshUnavailableError",
    "RefreshedTokens",
    "redeem_refresh_token",
    "refresh_token_url",
]

log = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://auth.openai.com"
REFRESH_TOKEN_URL = f"{DEFAULT_ISSUER}/oauth/token"
REFRESH_URL_ENV = "CODEX_REFRESH_TOKEN_URL_OVERRIDE"
#: The public OAuth client id of the Codex CLI; the issuer only knows this one.
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
SCOPE = "openid profile email"


def refresh_token_url(env: Mapping[str, str]) -> str:
    """The token endpoint, or the override tests and the emulator use."""
    return env.get(REFRESH_URL_ENV, "").strip() or REFRESH_TOKEN_URL


class RefreshedTokens(SecretRepr, msgspec.Struct, frozen=True):
    """What the issuer returned; a field it left out keeps its old value."""

    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"id_token", "access_token", "refresh_token"}
    )

    id_token: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None


def _failure_reason(body: Any) -> RefreshFailure:
    codes: list[str] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            codes.append(error["code"])
        elif isinstance(error, str):
            codes.append(error)
        if isinstance(body.get("code"), str):
            codes.append(body["code"])
    for code in codes:
        try:
            return RefreshFailure(code.lower())
        except ValueError:
            continue
    return RefreshFailure.OTHER


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


async def redeem_refresh_token(
    http: httpx.AsyncClient, url: str, refresh_token: str
) -> RefreshedTokens:
    """Exchange ``refresh_token`` for new tokens.

    Raises RefreshRejectedError (permanent) or RefreshUnavailableError (transient). Neither
    message contains a token or the response body: bodies of token endpoints can echo secrets.
    """
    body = {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "scope": SCOPE,
    }
    import httpx  # with the client the caller made: the constants above are used without it

    try:
        response = await http.post(url, json=body, headers={"Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        raise RefreshUnavailableError(
            f"could not reach the sign-in server to renew ChatGPT credentials "
            f"({type(exc).__name__}); check the network and try again"
        ) from None
    if response.status_code == 401:
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = None
        reason = _failure_reason(parsed)
        log.info("token refresh refused by the issuer: %s", reason.value)
        raise RefreshRejectedError(reason)
    if response.status_code >= 400:
        raise RefreshUnavailableError(
            f"the sign-in server answered HTTP {response.status_code} while renewing ChatGPT "
            "credentials; try again shortly"
        )
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RefreshUnavailableError(
            "the sign-in server sent an unreadable answer while renewing ChatGPT credentials; "
            "try again shortly"
        )
    return RefreshedTokens(
        id_token=_optional_str(data, "id_token"),
        access_token=_optional_str(data, "access_token"),
        refresh_token=_optional_str(data, "refresh_token"),
    )
