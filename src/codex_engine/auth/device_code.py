"""ChatGPT sign-in with a device code: show a URL and a code, poll until the user approved.

The issuer answers the poll with an authorization code plus its PKCE verifier, which is then
exchanged for tokens at `{issuer}/oauth/token`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import httpx
import msgspec

from codex_engine.auth.refresh import CLIENT_ID
from codex_engine.auth.tokens import TokenData, parse_jwt_claims
from codex_engine.errors import AuthError
from codex_engine.protocol.secret_repr import SecretRepr

__all__ = ["DEVICE_CODE_TIMEOUT_S", "DeviceCode", "complete_device_code", "request_device_code"]

#: How long a device code stays valid at the issuer.
DEVICE_CODE_TIMEOUT_S = 15 * 60


class DeviceCode(SecretRepr, msgspec.Struct, frozen=True):
    """What the user needs (URL and one-time code) and what polling needs."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"device_auth_id"})

    verification_url: str
    user_code: str
    device_auth_id: str
    interval: float = 5.0


def _issuer(issuer: str) -> str:
    return issuer.rstrip("/")


async def _post_json(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    try:
        return await http.post(url, json=body)
    except httpx.HTTPError as exc:
        raise AuthError(
            f"could not reach the sign-in server at {url} ({type(exc).__name__}); check the "
            "network (or --issuer) and try again"
        ) from None


async def request_device_code(
    http: httpx.AsyncClient, issuer: str, *, client_id: str = CLIENT_ID
) -> DeviceCode:
    """Ask the issuer for a one-time user code."""
    base = _issuer(issuer)
    response = await _post_json(
        http, f"{base}/api/accounts/deviceauth/usercode", {"client_id": client_id}
    )
    if response.status_code == 404:
        raise AuthError(
            f"{base} does not offer device-code sign-in; check --issuer, or sign in with "
            "`codex-engine login --with-api-key`"
        )
    if response.status_code >= 400:
        raise AuthError(
            f"the sign-in server answered HTTP {response.status_code} when asked for a device "
            "code; try again later"
        )
    try:
        data = response.json()
        interval = float(str(data.get("interval", "5")).strip() or "5")
        return DeviceCode(
            verification_url=f"{base}/codex/device",
            user_code=str(data.get("user_code") or data["usercode"]),
            device_auth_id=str(data["device_auth_id"]),
            interval=max(interval, 0.0),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AuthError(
            "the sign-in server sent an unreadable device-code answer; try again later"
        ) from None


async def complete_device_code(
    http: httpx.AsyncClient,
    issuer: str,
    code: DeviceCode,
    *,
    client_id: str = CLIENT_ID,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    max_wait: float = DEVICE_CODE_TIMEOUT_S,
) -> TokenData:
    """Poll until the user approved the code, then exchange it for tokens."""
    base = _issuer(issuer)
    deadline = time.monotonic() + max_wait
    poll_body = {"device_auth_id": code.device_auth_id, "user_code": code.user_code}
    while True:
        response = await _post_json(http, f"{base}/api/accounts/deviceauth/token", poll_body)
        if response.is_success:
            break
        # 403/404 mean "not approved yet" at this issuer.
        if response.status_code not in (403, 404):
            raise AuthError(
                f"device-code sign-in failed: the server answered HTTP {response.status_code}; "
                "run `codex-engine login` again"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AuthError(
                "the device code expired before it was approved; run `codex-engine login` again"
            )
        await sleep(min(code.interval, remaining))
    try:
        grant = response.json()
        authorization_code = str(grant["authorization_code"])
        verifier = str(grant["code_verifier"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(
            "the sign-in server sent an unreadable approval; run `codex-engine login` again"
        ) from None
    try:
        exchanged = await http.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": authorization_code,
                "redirect_uri": f"{base}/deviceauth/callback",
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    except httpx.HTTPError as exc:
        raise AuthError(
            f"could not reach the sign-in server to finish signing in ({type(exc).__name__}); "
            "run `codex-engine login` again"
        ) from None
    if not exchanged.is_success:
        raise AuthError(
            f"the sign-in server refused the approved code (HTTP {exchanged.status_code}); run "
            "`codex-engine login` again"
        )
    try:
        tokens = exchanged.json()
        id_token = str(tokens["id_token"])
        access_token = str(tokens["access_token"])
        refresh_token = str(tokens["refresh_token"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(
            "the sign-in server sent unreadable tokens; run `codex-engine login` again"
        ) from None
    return TokenData(
        id_token=id_token,
        access_token=access_token,
        refresh_token=refresh_token,
        account_id=parse_jwt_claims(id_token).account_id,
    )
