"""The emulator's OAuth issuer: device codes, token minting with refresh-token rotation, expiry.

Pure state (no HTTP); `emulator/oauth_http.py` serves it. Tokens are unsigned JWTs carrying the
`https://api.openai.com/auth` claims, which is all codex-engine reads from them.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeviceAuthorization", "IssuedTokens", "OAuthIssuer", "TokenRefusedError", "mint_jwt"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_jwt(payload: dict[str, Any]) -> str:
    """An unsigned JWT (the signature part is a fixed marker; nobody checks it here)."""
    header = {"alg": "none", "typ": "JWT"}
    return ".".join(
        (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(payload, separators=(",", ":")).encode()),
            "emulator-signature",
        )
    )


class TokenRefusedError(Exception):
    """The token endpoint refuses a grant; ``code`` is the OAuth error code sent with 401/400."""

    def __init__(self, code: str, status: int = 401) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class IssuedTokens:
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)

    def to_json(self) -> dict[str, str]:
        return {
            "id_token": self.id_token,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
        }


@dataclass
class DeviceAuthorization:
    device_auth_id: str
    user_code: str
    approved: bool = False
    polls: int = 0
    authorization_code: str | None = None
    code_verifier: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass
class _Account:
    account_id: str
    email: str
    plan_type: str


class OAuthIssuer:
    """Issuer state. Attributes are plain and may be changed while the emulator runs.

    ``access_token_ttl`` (seconds) sets the `exp` of new access tokens; ``check_access_tokens``
    makes `/v1/responses` answer 401 to access tokens that are unknown or expired;
    ``auto_approve_after`` approves a device code after that many polls (None: never, call
    :meth:`approve`); ``device_interval`` is the poll interval announced to clients.
    """

    client_id = "app_EMoamEEZ73f0CkXaXp7hrann"

    def __init__(
        self,
        *,
        account_id: str = "acct-emulator",
        email: str = "dev@example.com",
        plan_type: str = "plus",
        access_token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = _Account(account_id, email, plan_type)
        self.access_token_ttl = access_token_ttl
        self.check_access_tokens = False
        self.auto_approve_after: int | None = 1
        self.device_interval = "0"
        self.clock = clock
        #: Every token set minted (sign-ins and refreshes), for tests that look for leaks.
        self.issued: list[IssuedTokens] = []
        #: Every refresh token presented to the token endpoint, in order (accepted or not).
        self.refresh_attempts: list[str] = []
        #: How many times each refresh token was presented.
        self.redemptions: Counter[str] = Counter()
        self._live_refresh: set[str] = set()
        self._spent_refresh: set[str] = set()
        self._revoked_refresh: set[str] = set()
        self._access: dict[str, float] = {}
        self._devices: dict[str, DeviceAuthorization] = {}
        self._codes: dict[str, DeviceAuthorization] = {}

    # -- minting ----------------------------------------------------------------------------

    def issue(
        self,
        *,
        account_id: str | None = None,
        email: str | None = None,
        plan_type: str | None = None,
        access_token_ttl: float | None = None,
    ) -> IssuedTokens:
        """Fresh tokens for the account (or another one), as a sign-in would return them."""
        now = self.clock()
        ttl = self.access_token_ttl if access_token_ttl is None else access_token_ttl
        auth_claims = {
            "chatgpt_account_id": account_id or self.account.account_id,
            "chatgpt_plan_type": plan_type or self.account.plan_type,
            "chatgpt_user_id": "user-emulator",
        }
        nonce = secrets.token_hex(8)
        id_token = mint_jwt(
            {
                "email": email or self.account.email,
                "https://api.openai.com/auth": auth_claims,
                "iat": int(now),
                "exp": int(now + 3600),
                "jti": nonce,
            }
        )
        expires = now + ttl
        access_token = mint_jwt(
            {"https://api.openai.com/auth": auth_claims, "exp": int(expires), "jti": nonce}
        )
        refresh_token = f"rt-emulator-{secrets.token_hex(16)}"
        self._access[access_token] = expires
        self._live_refresh.add(refresh_token)
        tokens = IssuedTokens(id_token, access_token, refresh_token)
        self.issued.append(tokens)
        return tokens

    # -- token endpoint ---------------------------------------------------------------------

    def redeem_refresh_token(self, refresh_token: str) -> IssuedTokens:
        """Rotate: the presented token is spent, a new set is returned. Reuse is refused."""
        self.refresh_attempts.append(refresh_token)
        self.redemptions[refresh_token] += 1
        if refresh_token in self._revoked_refresh:
            raise TokenRefusedError("refresh_token_invalidated")
        if refresh_token in self._spent_refresh:
            raise TokenRefusedError("refresh_token_reused")
        if refresh_token not in self._live_refresh:
            raise TokenRefusedError("refresh_token_expired")
        self._live_refresh.discard(refresh_token)
        self._spent_refresh.add(refresh_token)
        return self.issue()

    def revoke(self, refresh_token: str) -> None:
        self._live_refresh.discard(refresh_token)
        self._revoked_refresh.add(refresh_token)

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far count as expired."""
        for token in self._access:
            self._access[token] = 0.0

    def access_token_valid(self, token: str) -> bool:
        expires = self._access.get(token)
        return expires is not None and expires > self.clock()

    # -- device codes -----------------------------------------------------------------------

    def start_device_authorization(self) -> DeviceAuthorization:
        letters = secrets.token_hex(4).upper()
        device = DeviceAuthorization(
            device_auth_id=f"dev-{secrets.token_hex(8)}",
            user_code=f"{letters[:4]}-{letters[4:]}",
        )
        self._devices[device.device_auth_id] = device
        return device

    def approve(self, user_code: str) -> None:
        for device in self._devices.values():
            if device.user_code == user_code:
                device.approved = True
                return
        raise KeyError(user_code)

    def poll(self, device_auth_id: str, user_code: str) -> DeviceAuthorization | None:
        """The approved authorization, or None while it is pending. KeyError when unknown."""
        device = self._devices[device_auth_id]
        if device.user_code != user_code:
            raise KeyError(user_code)
        device.polls += 1
        if self.auto_approve_after is not None and device.polls > self.auto_approve_after:
            device.approved = True
        if not device.approved:
            return None
        if device.authorization_code is None:
            device.authorization_code = f"ac-{secrets.token_hex(12)}"
            self._codes[device.authorization_code] = device
        return device

    def exchange_authorization_code(self, code: str, verifier: str) -> IssuedTokens:
        device = self._codes.pop(code, None)
        if device is None or device.code_verifier != verifier:
            raise TokenRefusedError("invalid_grant", status=400)
        return self.issue()
