"""``account/*`` methods, served by :class:`codex_engine.app_server.accounts.AccountService`."""

from __future__ import annotations

from typing import Any

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import NoParams, Tagged, method
from codex_engine.protocol.app_server import (
    LOGIN_PARAMS,
    CancelLoginAccountParams,
    GetAccountParams,
    LoginParams,
)


@method("account/read", GetAccountParams)
async def account_read(ctx: ServerContext, p: GetAccountParams, reply: Reply) -> Any:
    return await ctx.accounts.read(refresh=p.refresh_token)


@method("account/login/start", Tagged("type", LOGIN_PARAMS))
async def account_login_start(ctx: ServerContext, p: Any, reply: Reply) -> None:
    login: LoginParams = p
    await ctx.accounts.login(login, reply)


@method("account/login/cancel", CancelLoginAccountParams)
async def account_login_cancel(
    ctx: ServerContext, p: CancelLoginAccountParams, reply: Reply
) -> Any:
    return await ctx.accounts.cancel(p.login_id)


@method("account/logout", NoParams)
async def account_logout(ctx: ServerContext, p: NoParams, reply: Reply) -> None:
    await reply.result({})
    await ctx.accounts.logout()
