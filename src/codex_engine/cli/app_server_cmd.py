"""``codex-engine app-server``: the JSON-RPC app-server on stdio, as the official SDKs launch it."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from codex_engine.cli.options import config_flags, gather_flags
from codex_engine.errors import ConfigError

__all__ = ["app_server_command"]

EXIT_CONFIG = 2


@click.command("app-server")
@click.option(
    "--listen",
    default="stdio://",
    show_default=True,
    metavar="URL",
    help="Where to serve; only stdio:// (JSON lines on stdin/stdout) is supported.",
)
# Sign-in plumbing for tests and local OAuth issuers (the emulator); hidden from --help.
@click.option("--login-issuer", default=None, hidden=True, metavar="URL")
@click.option("--login-callback-port", default=None, type=int, hidden=True, metavar="PORT")
@click.option("--auth-refresh-timeout-ms", default=None, type=int, hidden=True, metavar="MS")
@config_flags
@click.pass_context
def app_server_command(
    ctx: click.Context,
    /,
    listen: str,
    login_issuer: str | None,
    login_callback_port: int | None,
    auth_refresh_timeout_ms: int | None,
    **flag_values: Any,
) -> None:
    """Serve the app-server protocol (JSON-RPC, one message per line) on stdin and stdout."""
    if listen != "stdio://":
        raise click.UsageError(
            f"--listen {listen} is not supported yet; codex-engine app-server serves stdio:// only"
        )
    flags = gather_flags(ctx, **flag_values)
    try:
        overrides = flags.parsed()
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    from codex_engine.app_server import ServerOptions, serve_stdio

    extra: dict[str, Any] = {}
    if login_issuer:
        extra["login_issuer"] = login_issuer
    if login_callback_port is not None:
        extra["login_callback_port"] = login_callback_port
    if auth_refresh_timeout_ms is not None:
        extra["auth_refresh_timeout_s"] = auth_refresh_timeout_ms / 1000
    options = ServerOptions(overrides=overrides, profile=flags.profile, **extra)
    ctx.exit(asyncio.run(serve_stdio(options)))
