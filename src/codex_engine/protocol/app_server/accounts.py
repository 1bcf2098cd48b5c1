"""Accounts: sign-in params, ChatGPT token refresh, account and rate-limit notifications."""

from __future__ import annotations

from typing import Literal

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "LOGIN_PARAMS",
    "AccountLoginCompletedNotification",
    "AccountRateLimitsUpdatedNotification",
    "AccountUpdatedNotification",
    "ApiKeyLoginParams",
    "CancelLoginAccountParams",
    "ChatgptAuthTokensLoginParams",
    "ChatgptAuthTokensRefreshResult",
    "ChatgptDeviceCodeLoginParams",
    "ChatgptLoginParams",
    "CreditsSnapshotWire",
    "GetAccountParams",
    "LoginParams",
    "RateLimitSnapshotWire",
    "RateLimitWindowWire",
]


class GetAccountParams(_Params):
    refresh_token: bool = False


class CancelLoginAccountParams(_Params):
    login_id: str


class ApiKeyLoginParams(_Params):
    type: Literal["apiKey"]
    api_key: str


class ChatgptLoginParams(_Params):
    type: Literal["chatgpt"]
    app_brand: str | None = None
    use_hosted_login_success_page: bool | None = None
    codex_streamlined_login: bool | None = None


class ChatgptDeviceCodeLoginParams(_Params):
    type: Literal["chatgptDeviceCode"]


class ChatgptAuthTokensLoginParams(_Params):
    type: Literal["chatgptAuthTokens"]
    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


LoginParams = (
    ApiKeyLoginParams
    | ChatgptLoginParams
    | ChatgptDeviceCodeLoginParams
    | ChatgptAuthTokensLoginParams
)


#: ``type`` of ``account/login/start`` params -> the model that validates them.
LOGIN_PARAMS: dict[str, type[_Params]] = {
    "apiKey": ApiKeyLoginParams,
    "chatgpt": ChatgptLoginParams,
    "chatgptDeviceCode": ChatgptDeviceCodeLoginParams,
    "chatgptAuthTokens": ChatgptAuthTokensLoginParams,
}


class ChatgptAuthTokensRefreshResult(_Params):
    """The client's answer to ``account/chatgptAuthTokens/refresh``."""

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


class AccountUpdatedNotification(_Out):
    auth_mode: str | None = None
    plan_type: str | None = None


class AccountLoginCompletedNotification(_Out):
    login_id: str | None = None
    success: bool
    error: str | None = None


class RateLimitWindowWire(_Out):
    used_percent: int
    window_duration_mins: int | None = None
    resets_at: int | None = None


class CreditsSnapshotWire(_Out):
    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshotWire(_Out):
    limit_id: str | None = None
    limit_name: str | None = None
    primary: RateLimitWindowWire | None = None
    secondary: RateLimitWindowWire | None = None
    credits: CreditsSnapshotWire | None = None
    plan_type: str | None = None


class AccountRateLimitsUpdatedNotification(_Out):
    rate_limits: RateLimitSnapshotWire
