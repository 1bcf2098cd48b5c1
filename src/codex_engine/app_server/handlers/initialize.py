"""``initialize``: the handshake that names the client and must come before any other request."""

from __future__ import annotations

import os
import platform
import sys

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import InvalidRequestError, method
from codex_engine.errors import ConfigError
from codex_engine.protocol.app_server import (
    UNVERSIONED,
    ConfigWarningNotification,
    InitializeParams,
    InitializeResponse,
    ServerInfo,
)
from codex_engine.protocol.request import default_identity


@method("initialize", InitializeParams, before_initialize=True)
async def initialize(ctx: ServerContext, p: InitializeParams, reply: Reply) -> None:
    if ctx.initialized:
        raise InvalidRequestError("initialize was already called on this connection")
    ctx.initialized = True
    ctx.client_name = p.client_info.name
    caps = p.capabilities
    if caps is not None and caps.opt_out_notification_methods:
        ctx.peer.opt_out = frozenset(caps.opt_out_notification_methods)
    identity = default_identity(ctx.env.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE"))
    user_agent = f"{identity.user_agent} ({p.client_info.name}; {p.client_info.version})"
    await reply.result(
        InitializeResponse(
            server_info=ServerInfo(name=identity.originator, version=UNVERSIONED),
            user_agent=user_agent,
            codex_home=str(ctx.codex_home),
            platform_family="windows" if os.name == "nt" else "unix",
            platform_os="macos" if sys.platform == "darwin" else platform.system().lower(),
        ).to_wire()
    )
    try:
        ctx.load_config()
    except ConfigError as exc:
        warning = ConfigWarningNotification(summary=str(exc))
        await ctx.peer.notify("configWarning", warning.to_wire())
