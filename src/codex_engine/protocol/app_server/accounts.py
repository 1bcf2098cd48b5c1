"""Accounts: sign-in params, ChatGPT token refresh, account and rate-limit notifications."""

from typing import Literal

from codex_engine.protocol.app_server._base import _Out, _Params, _TaggedOut, _TaggedParams

__all__ = [
    "LOGIN_PARAMS",
    "AccountLoginCompletedNotification",
    "AccountRateLimitsUpdatedNotification",
    "AccountUpdatedNotification",
    "ApiKeyAccount",
    "ApiKeyLoginParams",
    "ApiKeyLoginResponse",
    "CancelLoginAccountParams",
    "CancelLoginAccountResponse",
    "ChatgptAccount",
    "ChatgptAuthTokensLoginParams",
    "ChatgptAuthTokensLoginResponse",
    "ChatgptAuthTokensRefreshParams",
    "ChatgptAuthTokensRefreshResult",
    "ChatgptDeviceCodeLoginParams",
    "ChatgptDeviceCodeLoginResponse",
    "ChatgptLoginParams",
    "ChatgptLoginResponse",
    "CreditsSnapshotWire",
    "GetAccountParams",
    "GetAccountRateLimitsResponse",
    "GetAccountResponse",
    "LoginAccountResponse",
    "LoginParams",
    "RateLimitSnapshotWire",
    "RateLimitWindowWire",
]


class GetAccountParams(_Params, frozen=True, kw_only=True):
    refresh_token: bool = False


class CancelLoginAccountParams(_Params, frozen=True, kw_only=True):
    login_id: str


class ApiKeyLoginParams(_TaggedParams, tag="apiKey", frozen=True, kw_only=True):
    api_key: str


class ChatgptLoginParams(_TaggedParams, tag="chatgpt", frozen=True, kw_only=True):
    app_brand: str | None = None
    use_hosted_login_success_page: bool | None = None
    codex_streamlined_login: bool | None = None


class ChatgptDeviceCodeLoginParams(
    _TaggedParams, tag="chatgptDeviceCode", frozen=True, kw_only=True
):
    """Sign in with a code shown on another device."""


class ChatgptAuthTokensLoginParams(
    _TaggedParams, tag="chatgptAuthTokens", frozen=True, kw_only=True
):
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
LOGIN_PARAMS: dict[str, type[_TaggedParams]] = {
    "apiKey": ApiKeyLoginParams,
    "chatgpt": ChatgptLoginParams,
    "chatgptDeviceCode": ChatgptDeviceCodeLoginParams,
    "chatgptAuthTokens": ChatgptAuthTokensLoginParams,
}


class ChatgptAuthTokensRefreshResult(_Params, frozen=True, kw_only=True):
    """The client's answer to ``account/chatgptAuthTokens/refresh``."""

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


class AccountUpdatedNotification(_Out, kw_only=True):
    auth_mode: str | None = None
    plan_type: str | None = None


class AccountLoginCompletedNotification(_Out, kw_only=True):
    login_id: str | None = None
    success: bool
    error: str | None = None


class RateLimitWindowWire(_Out, kw_only=True):
    used_percent: int
    window_duration_mins: int | None = None
    resets_at: int | None = None


class CreditsSnapshotWire(_Out, kw_only=True):
    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshotWire(_Out, kw_only=True):
    limit_id: str | None = None
    limit_name: str | None = None
    primary: RateLimitWindowWire | None = None
    secondary: RateLimitWindowWire | None = None
    credits: CreditsSnapshotWire | None = None
    plan_type: str | None = None


class AccountRateLimitsUpdatedNotification(_Out, kw_only=True):
    rate_limits: RateLimitSnapshotWire


class GetAccountRateLimitsResponse(_Out, kw_only=True):
    """``account/rateLimits/read``: the snapshots the model's responses last reported."""

    #: The ``codex`` limit when reported, else the one reported last.
    rate_limits: RateLimitSnapshotWire
    rate_limits_by_limit_id: dict[str, RateLimitSnapshotWire] | None = None


# -- responses -----------------------------------------------------------------------------


class ApiKeyAccount(_TaggedOut, tag="apiKey", kw_only=True):
    """Signed in with an API key."""


class ChatgptAccount(_TaggedOut, tag="chatgpt", kw_only=True):
    email: str | None
    plan_type: str


class GetAccountResponse(_Out, kw_only=True):
    account: ApiKeyAccount | ChatgptAccount | None
    requires_openai_auth: bool


class ApiKeyLoginResponse(_TaggedOut, tag="apiKey", kw_only=True):
    """The API key is saved: signed in."""


class ChatgptLoginResponse(_TaggedOut, tag="chatgpt", kw_only=True):
    login_id: str
    #: Open it in a browser to sign in; the server's callback on 127.0.0.1 finishes the flow.
    auth_url: str


class ChatgptDeviceCodeLoginResponse(_TaggedOut, tag="chatgptDeviceCode", kw_only=True):
    login_id: str
    verification_url: str
    user_code: str


class ChatgptAuthTokensLoginResponse(_TaggedOut, tag="chatgptAuthTokens", kw_only=True):
    """The app's ChatGPT tokens are in use: signed in."""


LoginAccountResponse = (
    ApiKeyLoginResponse
    | ChatgptLoginResponse
    | ChatgptDeviceCodeLoginResponse
    | ChatgptAuthTokensLoginResponse
)


class CancelLoginAccountResponse(_Out, kw_only=True):
    status: Literal["canceled", "notFound"]


# -- server request ------------------------------------------------------------------------


class ChatgptAuthTokensRefreshParams(_Out, kw_only=True):
    """``account/chatgptAuthTokens/refresh``: the server asks the app for new tokens."""

    reason: Literal["unauthorized"]
    previous_account_id: str | None = None
