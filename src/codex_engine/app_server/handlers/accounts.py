"""``account/*`` methods, served by :class:`codex_engine.app_server.accounts.AccountService`."""

from __future__ import annotations

from typing import Any

import msgspec

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import InvalidRequestError, NoParams, Tagged, method
from codex_engine.protocol.app_server import (
    LOGIN_PARAMS,
    CancelLoginAccountParams,
    GetAccountParams,
    GetAccountRateLimitsResponse,
    LoginParams,
    RateLimitSnapshotWire,
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


@method("account/rateLimits/read", NoParams)
async def account_rate_limits_read(ctx: ServerContext, p: NoParams, reply: Reply) -> Any:
    """The limits the response headers (or WebSocket events) last reported on this server."""
    if not ctx.rate_limits:
        raise InvalidRequestError(
            "no rate limits are known yet: the model's responses report them, so run a turn "
            "first (account/rateLimits/updated follows each report)"
        )
    snapshots = {
        key: msgspec.convert(v, RateLimitSnapshotWire) for key, v in ctx.rate_limits.items()
    }
    main = snapshots.get("codex") or list(snapshots.values())[-1]
    by_id = {key: snap for key, snap in snapshots.items() if key is not None}
    return GetAccountRateLimitsResponse(
        rate_limits=main, rate_limits_by_limit_id=by_id or None
    ).to_wire()
