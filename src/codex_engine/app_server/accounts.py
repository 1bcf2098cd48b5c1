"""The service behind ``account/*``: one AuthManager per process, sign-in flows, app tokens.

ChatGPT sign-in runs in the background (device code, or a browser redirect to a callback server
on 127.0.0.1) and ends with ``account/login/completed``. App-supplied tokens live in memory only;
after a 401 the client is asked for new ones with ``account/chatgptAuthTokens/refresh``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec

from codex_engine.app_server.connection import ConnectionClosedError, Reply
from codex_engine.app_server.context import DEFAULT_CALLBACK_PORT, EXTERNAL_AUTH_REFRESH_TIMEOUT_S
from codex_engine.app_server.projector import plan_type_wire
from codex_engine.app_server.registry import InvalidRequestError
from codex_engine.auth.device_code import complete_device_code, request_device_code
from codex_engine.auth.login_callback import CallbackReply, LoginCallbackServer
from codex_engine.auth.manager import AuthManager
from codex_engine.auth.refresh import CLIENT_ID
from codex_engine.auth.tokens import (
    ApiKeyAuth,
    ChatGptAuth,
    CodexAuth,
    ExternalChatGptAuth,
    TokenData,
    parse_jwt_claims,
)
from codex_engine.errors import AuthError, CodexError
from codex_engine.protocol.app_server import (
    AccountLoginCompletedNotification,
    AccountUpdatedNotification,
    ApiKeyLoginParams,
    ChatgptAuthTokensLoginParams,
    ChatgptAuthTokensRefreshResult,
    ChatgptDeviceCodeLoginParams,
    LoginParams,
)
from codex_engine.protocol.jsonrpc import JsonRpcError

__all__ = [
    "DEFAULT_CALLBACK_PORT",
    "EXTERNAL_AUTH_REFRESH_TIMEOUT_S",
    "AccountService",
    "auth_mode_wire",
]

log = logging.getLogger(__name__)

_SCOPE = "openid profile email offline_access"

Notify = Callable[[str, dict[str, Any]], Awaitable[None]]
ServerRequest = Callable[[str, dict[str, Any]], Awaitable[Any]]


def auth_mode_wire(auth: CodexAuth | None) -> str | None:
    if auth is None:
        return None
    if isinstance(auth, ApiKeyAuth):
        return "apikey"
    if isinstance(auth, ExternalChatGptAuth):
        return "chatgptAuthTokens"
    return "chatgpt"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Login(msgspec.Struct):
    """One ChatGPT sign-in attempt running in the background."""

    id: str
    task: asyncio.Task[None] | None = None
    callback_server: LoginCallbackServer | None = None
    finished: bool = False
    callback: asyncio.Future[TokenData] = msgspec.field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class AccountService:
    """Owns the process's AuthManager and the sign-in attempts of the connection."""

    def __init__(
        self,
        manager: AuthManager,
        *,
        notify: Notify,
        server_request: ServerRequest,
        issuer: str,
        callback_port: int = DEFAULT_CALLBACK_PORT,
        refresh_timeout_s: float = EXTERNAL_AUTH_REFRESH_TIMEOUT_S,
        requires_openai_auth: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.manager = manager
        self._notify = notify
        self._server_request = server_request
        self._issuer = issuer.rstrip("/")
        self._callback_port = callback_port
        self._refresh_timeout_s = refresh_timeout_s
        self.requires_openai_auth = requires_openai_auth
        self._env = env
        self._logins: dict[str, _Login] = {}
        self._http: httpx.AsyncClient | None = None
        manager.set_external_refresher(self._refresh_external)

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            from codex_engine.transport.tls import ssl_context

            self._http = httpx.AsyncClient(timeout=30.0, verify=ssl_context(self._env))
        return self._http

    async def aclose(self) -> None:
        for login in list(self._logins.values()):
            await self._end_login(login, cancel=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await self.manager.aclose()

    # -- account/read --------------------------------------------------------------------------

    async def read(self, *, refresh: bool) -> dict[str, Any]:
        manager = self.manager
        # Another process (`codex-engine login`) may have signed in or out since.
        manager.reload()
        auth = manager.auth_cached()
        if refresh and isinstance(auth, ChatGptAuth):
            auth = await manager.refresh_token()
        account: dict[str, Any] | None
        if auth is None or not self.requires_openai_auth:
            # As the reference: a provider that does not use OpenAI sign-in has no account to
            # show, whatever auth.json holds.
            account = None
        elif isinstance(auth, ApiKeyAuth):
            account = {"type": "apiKey"}
        else:
            account = {
                "type": "chatgpt",
                "email": auth.email,
                "planType": plan_type_wire(auth.plan_type) or "unknown",
            }
        return {
            "account": account,
            "requiresOpenaiAuth": self.requires_openai_auth,
            "workspaceRouting": None,
        }

    # -- account/logout ------------------------------------------------------------------------

    async def logout(self) -> None:
        self.manager.logout()
        await self._account_updated()

    async def _account_updated(self) -> None:
        auth = self.manager.auth_cached()
        note = AccountUpdatedNotification(
            auth_mode=auth_mode_wire(auth),
            plan_type=plan_type_wire(auth.plan_type) if auth is not None else None,
        )
        await self._notify("account/updated", note.to_wire())

    async def _login_completed(self, login_id: str | None, error: str | None) -> None:
        note = AccountLoginCompletedNotification(
            login_id=login_id, success=error is None, error=error
        )
        await self._notify("account/login/completed", note.to_wire())

    # -- account/login/start -------------------------------------------------------------------

    async def login(self, p: LoginParams, reply: Reply) -> None:
        if isinstance(p, ApiKeyLoginParams):
            await self._login_api_key(p, reply)
        elif isinstance(p, ChatgptAuthTokensLoginParams):
            await self._login_external(p, reply)
        else:
            if isinstance(self.manager.auth_cached(), ExternalChatGptAuth):
                raise InvalidRequestError(
                    "ChatGPT sign-in is not available while app-supplied ChatGPT tokens are in "
                    "use; send account/logout first",
                )
            if self.manager.forced_login_method == "api":
                raise InvalidRequestError(
                    'this configuration requires an API key (forced_login_method = "api"); '
                    "sign in with type apiKey",
                )
            if isinstance(p, ChatgptDeviceCodeLoginParams):
                await self._login_device_code(reply)
            else:
                await self._login_browser(reply)

    async def _login_api_key(self, p: ApiKeyLoginParams, reply: Reply) -> None:
        self.manager.login_with_api_key(p.api_key)
        # A stored key replaces every other credential, app-supplied tokens included.
        self.manager.set_external_auth(None)
        await reply.result({"type": "apiKey"})
        await self._login_completed(None, None)
        await self._account_updated()

    async def _login_external(self, p: ChatgptAuthTokensLoginParams, reply: Reply) -> None:
        if self.manager.forced_login_method == "api":
            raise InvalidRequestError(
                'this configuration requires an API key (forced_login_method = "api"); '
                "ChatGPT tokens are not accepted",
            )
        plan = p.chatgpt_plan_type or parse_jwt_claims(p.access_token).plan_type
        auth = ExternalChatGptAuth(p.access_token, p.chatgpt_account_id, plan)
        self.manager.set_external_auth(auth)
        await reply.result({"type": "chatgptAuthTokens"})
        await self._login_completed(None, None)
        await self._account_updated()

    async def _replace_running_logins(self) -> None:
        # One sign-in at a time (the browser flow owns a fixed port): a new one ends the old.
        for login in list(self._logins.values()):
            await self._end_login(login, cancel=True)

    async def _login_device_code(self, reply: Reply) -> None:
        await self._replace_running_logins()
        http = self._http_client()
        code = await request_device_code(http, self._issuer)
        login = _Login(id=str(uuid.uuid4()))
        self._logins[login.id] = login
        await reply.result(
            {
                "type": "chatgptDeviceCode",
                "loginId": login.id,
                "verificationUrl": code.verification_url,
                "userCode": code.user_code,
            }
        )
        login.task = asyncio.create_task(
            self._finish_login(login, complete_device_code(http, self._issuer, code))
        )

    async def _login_browser(self, reply: Reply) -> None:
        await self._replace_running_logins()
        login = _Login(id=str(uuid.uuid4()))
        verifier = _b64url(secrets.token_bytes(64))
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        state = _b64url(secrets.token_bytes(32))
        redirect: dict[str, str] = {}

        async def callback(query: Mapping[str, str]) -> CallbackReply:
            return await self._on_callback(login, query, state, verifier, redirect["uri"])

        try:
            server = await LoginCallbackServer.start(callback, port=self._callback_port)
        except OSError as exc:
            raise CodexError(
                f"cannot listen on 127.0.0.1:{self._callback_port} for the sign-in callback "
                f"({exc.strerror}); close whatever uses that port, or use chatgptDeviceCode"
            ) from None
        login.callback_server = server
        port = server.port
        redirect["uri"] = f"http://localhost:{port}/auth/callback"
        query = urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": redirect["uri"],
                "scope": _SCOPE,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "id_token_add_organizations": "true",
                "codex_cli_simplified_flow": "true",
                "state": state,
                "originator": "codex_engine",
            }
        )
        self._logins[login.id] = login
        await reply.result(
            {
                "type": "chatgpt",
                "loginId": login.id,
                "authUrl": f"{self._issuer}/oauth/authorize?{query}",
            }
        )
        login.task = asyncio.create_task(self._finish_login(login, login.callback))

    async def _on_callback(
        self,
        login: _Login,
        query: Mapping[str, str],
        state: str,
        verifier: str,
        redirect_uri: str,
    ) -> CallbackReply:
        if query.get("state") != state:
            # Not our redirect (or a forged one): keep waiting for the real one.
            return CallbackReply(400, "Sign-in state mismatch; start again.")
        if login.callback.done():
            return CallbackReply(409, "This sign-in already finished.")
        error = query.get("error")
        code = query.get("code")
        if error or not code:
            reason = query.get("error_description") or error or "no authorization code"
            login.callback.set_exception(AuthError(f"ChatGPT sign-in failed: {reason}"))
            return CallbackReply(400, f"Sign-in failed: {reason}")
        try:
            tokens = await self._exchange_code(code, verifier, redirect_uri)
        except AuthError as exc:
            if not login.callback.done():
                login.callback.set_exception(exc)
            return CallbackReply(400, f"Sign-in failed: {exc}")
        if not login.callback.done():
            login.callback.set_result(tokens)
        return CallbackReply(200, "Signed in to codex-engine. You can close this tab.")

    async def _exchange_code(self, code: str, verifier: str, redirect_uri: str) -> TokenData:
        try:
            response = await self._http_client().post(
                f"{self._issuer}/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": CLIENT_ID,
                    "code_verifier": verifier,
                },
            )
        except httpx.HTTPError as exc:
            raise AuthError(
                f"could not reach the sign-in server to finish signing in "
                f"({type(exc).__name__}); try again"
            ) from None
        if not response.is_success:
            raise AuthError(
                f"the sign-in server refused the authorization code (HTTP "
                f"{response.status_code}); start the sign-in again"
            )
        try:
            data = response.json()
            id_token = str(data["id_token"])
            return TokenData(
                id_token=id_token,
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                account_id=parse_jwt_claims(id_token).account_id,
            )
        except (ValueError, KeyError, TypeError):
            raise AuthError("the sign-in server sent unreadable tokens; try again") from None

    async def _finish_login(self, login: _Login, tokens: Awaitable[TokenData]) -> None:
        error: str | None = None
        try:
            self.manager.login_with_chatgpt_tokens(await tokens)
        except asyncio.CancelledError:
            return
        except CodexError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("ChatGPT sign-in %s broke", login.id)
            error = f"internal error during sign-in: {type(exc).__name__}"
        login.finished = True
        self._logins.pop(login.id, None)
        await self._login_completed(login.id, error)
        if error is None:
            await self._account_updated()
        if login.callback_server is not None:
            # After the notifications above; lets the callback's reply reach the browser.
            await login.callback_server.aclose()

    async def _end_login(self, login: _Login, *, cancel: bool) -> None:
        self._logins.pop(login.id, None)
        if login.task is not None and not login.task.done():
            login.task.cancel()
            await asyncio.gather(login.task, return_exceptions=True)
        if login.callback_server is not None:
            await login.callback_server.aclose()
        if cancel and not login.finished:
            login.finished = True
            with contextlib.suppress(ConnectionClosedError):
                await self._login_completed(login.id, "sign-in was canceled")

    async def cancel(self, login_id: str) -> dict[str, Any]:
        login = self._logins.get(login_id)
        if login is None:
            return {"status": "notFound"}
        await self._end_login(login, cancel=True)
        return {"status": "canceled"}

    # -- external tokens -----------------------------------------------------------------------

    async def _refresh_external(self, previous_account_id: str | None) -> ExternalChatGptAuth:
        """The AuthManager's refresher: ask the client for new tokens after a 401."""
        method = "account/chatgptAuthTokens/refresh"
        params = {"reason": "unauthorized", "previousAccountId": previous_account_id}
        timeout = self._refresh_timeout_s
        try:
            async with asyncio.timeout(timeout):
                result = await self._server_request(method, params)
        except TimeoutError:
            raise AuthError(
                f"the app did not answer {method} within {timeout:g} s, so the ChatGPT tokens "
                "could not be renewed; it will be asked again on the next request"
            ) from None
        except JsonRpcError as exc:
            raise AuthError(
                f"the app could not renew the ChatGPT tokens ({method} failed: {exc}); sign in "
                "again with account/login/start"
            ) from None
        except ConnectionClosedError:
            raise AuthError(
                f"the app disconnected before answering {method}; the ChatGPT tokens could not "
                "be renewed"
            ) from None
        try:
            fresh = msgspec.convert(result, ChatgptAuthTokensRefreshResult)
        except msgspec.ValidationError:
            raise AuthError(
                f"the app answered {method} without a usable accessToken and chatgptAccountId"
            ) from None
        plan = fresh.chatgpt_plan_type or parse_jwt_claims(fresh.access_token).plan_type
        return ExternalChatGptAuth(fresh.access_token, fresh.chatgpt_account_id, plan)
