"""Accounts: sign-in params, ChatGPT token refresh, account and rate-limit notifications."""

from typing import Literal

from codex_engine.protocol.app_server._base import _Out, _Params

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


class GetAccountRateLimitsResponse(_Out):
    """``account/rateLimits/read``: the snapshots the model's responses last reported."""

    #: The ``codex`` limit when reported, else the one reported last.
    rate_limits: RateLimitSnapshotWire
    rate_limits_by_limit_id: dict[str, RateLimitSnapshotWire] | None = None


# -- responses -----------------------------------------------------------------------------


class ApiKeyAccount(_Out):
    type: Literal["apiKey"] = "apiKey"


class ChatgptAccount(_Out):
    type: Literal["chatgpt"] = "chatgpt"
    email: str | None
    plan_type: str


class GetAccountResponse(_Out):
    account: ApiKeyAccount | ChatgptAccount | None
    requires_openai_auth: bool


class ApiKeyLoginResponse(_Out):
    type: Literal["apiKey"] = "apiKey"


class ChatgptLoginResponse(_Out):
    type: Literal["chatgpt"] = "chatgpt"
    login_id: str
    #: Open it in a browser to sign in; the server's callback on 127.0.0.1 finishes the flow.
    auth_url: str


class ChatgptDeviceCodeLoginResponse(_Out):
    type: Literal["chatgptDeviceCode"] = "chatgptDeviceCode"
    login_id: str
    verification_url: str
    user_code: str


class ChatgptAuthTokensLoginResponse(_Out):
    type: Literal["chatgptAuthTokens"] = "chatgptAuthTokens"


LoginAccountResponse = (
    ApiKeyLoginResponse
    | ChatgptLoginResponse
    | ChatgptDeviceCodeLoginResponse
    | ChatgptAuthTokensLoginResponse
)


class CancelLoginAccountResponse(_Out):
    status: Literal["canceled", "notFound"]


# -- server request ------------------------------------------------------------------------


class ChatgptAuthTokensRefreshParams(_Out):
    """``account/chatgptAuthTokens/refresh``: the server asks the app for new tokens."""

    reason: Literal["unauthorized"]
    previous_account_id: str | None = None
