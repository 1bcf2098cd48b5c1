"""`codex-engine login` (ChatGPT device code or `--with-api-key`), `login status`, `logout`.

Exit codes: 0 done, 1 failed or not signed in, 2 a configuration problem.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, NoReturn

import click
import httpx

from codex_engine.auth.device_code import complete_device_code, request_device_code
from codex_engine.auth.manager import AuthManager
from codex_engine.auth.refresh import DEFAULT_ISSUER
from codex_engine.auth.tokens import ApiKeyAuth, mask_api_key
from codex_engine.cli.options import ConfigFlags, config_flags, gather_flags
from codex_engine.config.loader import load_config
from codex_engine.errors import CodexError, ConfigError
from codex_engine.transport.tls import ssl_context

__all__ = ["login_group", "logout_command"]

EXIT_FAILED = 1
EXIT_CONFIG = 2


def _fail(ctx: click.Context, message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    ctx.exit(code)


def _manager(ctx: click.Context, flags: ConfigFlags) -> AuthManager:
    try:
        config = load_config(overrides=flags.parsed(), profile=flags.profile)
    except ConfigError as exc:
        _fail(ctx, str(exc), EXIT_CONFIG)
    return AuthManager.from_config(config)


def _read_api_key(ctx: click.Context) -> str:
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        _fail(
            ctx,
            "--with-api-key reads the key from stdin; pipe it in, e.g. "
            "`printenv OPENAI_API_KEY | codex-engine login --with-api-key`",
        )
    buffer = getattr(stdin, "buffer", None)
    raw = buffer.read() if buffer is not None else stdin.read().encode("utf-8", "surrogateescape")
    key = raw.strip()
    if not key:
        _fail(ctx, "no API key on stdin; pipe the key in (nothing else on the line)")
    # The key travels in an HTTP header, which carries visible ASCII only. Name the position,
    # never the byte: it is part of a secret.
    for position, byte in enumerate(key):
        if not 0x20 <= byte <= 0x7E:
            _fail(
                ctx,
                f"the API key on stdin has a character an API key cannot contain at position "
                f"{position}; pipe only the key (check its encoding)",
            )
    return key.decode("ascii")


async def _device_login(manager: AuthManager, issuer: str) -> str:
    async with httpx.AsyncClient(timeout=30.0, verify=ssl_context()) as http:
        code = await request_device_code(http, issuer)
        click.echo(
            "To sign in with ChatGPT:\n"
            f"  1. open {code.verification_url} in a browser and sign in\n"
            f"  2. enter the one-time code {code.user_code}\n"
            "     (it is valid for 15 minutes; never share it with anyone)\n"
            "Waiting for approval..."
        )
        tokens = await complete_device_code(http, issuer, code)
    auth = manager.login_with_chatgpt_tokens(tokens)
    who = auth.email or "your ChatGPT account"
    plan = f" (plan: {auth.plan_type})" if auth.plan_type else ""
    return f"Signed in with ChatGPT as {who}{plan}."


@click.group("login", invoke_without_command=True)
@click.option("--with-api-key", is_flag=True, help="Read an API key from stdin and store it.")
@click.option(
    "--issuer",
    default=DEFAULT_ISSUER,
    show_default=True,
    metavar="URL",
    help="OAuth issuer for ChatGPT sign-in.",
)
@click.option("--device-auth", is_flag=True, hidden=True, help="The device-code flow (default).")
@config_flags
@click.pass_context
def login_group(
    ctx: click.Context,
    /,
    with_api_key: bool,
    issuer: str,
    device_auth: bool,
    **flag_values: Any,
) -> None:
    """Sign in: with ChatGPT (device code) or, with --with-api-key, an API key from stdin."""
    flags = gather_flags(ctx, **flag_values)
    ctx.obj = flags
    if ctx.invoked_subcommand is not None:
        return
    manager = _manager(ctx, flags)
    try:
        if with_api_key:
            manager.login_with_api_key(_read_api_key(ctx))
            message = "Signed in with an API key."
        else:
            if manager.forced_login_method == "api":
                _fail(
                    ctx,
                    'this configuration requires an API key (forced_login_method = "api"); run '
                    "`codex-engine login --with-api-key`",
                )
            message = asyncio.run(_device_login(manager, issuer))
    except CodexError as exc:
        _fail(ctx, str(exc))
    except KeyboardInterrupt:
        _fail(ctx, "sign-in interrupted", 130)
    click.echo(message)


@login_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@config_flags
@click.pass_context
def login_status(ctx: click.Context, /, as_json: bool, **flag_values: Any) -> None:
    """Show how you are signed in (exit code 0), or that you are not (exit code 1)."""
    manager = _manager(ctx, gather_flags(ctx, **flag_values))
    try:
        auth = manager.auth_cached()
    except CodexError as exc:
        _fail(ctx, str(exc))
    status: dict[str, Any] = {"signed_in": auth is not None, "auth_mode": None}
    if auth is None:
        line = "Not signed in. Run `codex-engine login`."
    elif isinstance(auth, ApiKeyAuth):
        masked = mask_api_key(auth.api_key)
        status.update(auth_mode="apikey", api_key=masked)
        line = f"Signed in with an API key ({masked})."
    else:
        status.update(
            auth_mode="chatgpt",
            email=auth.email,
            plan_type=auth.plan_type,
            account_id=auth.account_id,
        )
        who = auth.email or "unknown email"
        plan = auth.plan_type or "unknown"
        line = f"Signed in with ChatGPT as {who} (plan: {plan})."
    click.echo(json.dumps(status) if as_json else line)
    ctx.exit(0 if auth is not None else EXIT_FAILED)


@click.command("logout")
@config_flags
@click.pass_context
def logout_command(ctx: click.Context, /, **flag_values: Any) -> None:
    """Remove stored credentials."""
    manager = _manager(ctx, gather_flags(ctx, **flag_values))
    try:
        removed = manager.logout()
    except CodexError as exc:
        _fail(ctx, str(exc))
    click.echo("Signed out." if removed else "Not signed in; nothing to remove.")
