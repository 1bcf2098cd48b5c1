"""``codex-engine app-server``: the JSON-RPC app-server on stdio, as the official SDKs launch it,
and ``app-server generate-json-schema``: the schema of the protocol it implements."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from codex_engine.cli.options import config_flags, gather_flags
from codex_engine.errors import ConfigError

__all__ = ["app_server_command"]

EXIT_CONFIG = 2


@click.group("app-server", invoke_without_command=True)
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
    if ctx.invoked_subcommand is not None:
        return
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


@app_server_command.command("generate-json-schema")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the schema files into (created if missing).",
)
@click.option(
    "--experimental",
    is_flag=True,
    help="Include the fields of the experimental API (clients that set experimentalApi).",
)
def generate_json_schema_command(out_dir: Path, experimental: bool) -> None:
    """Write the JSON Schema of every app-server message codex-engine implements."""
    from codex_engine.protocol.app_server.schema import build_schemas

    try:
        for relative, document in build_schemas(experimental=experimental).items():
            _write_atomically(out_dir / relative, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        where = exc.filename or out_dir
        raise click.ClickException(
            f"cannot write the schema to {where}: {exc.strerror}; choose a writable --out"
        ) from None


def _write_atomically(path: Path, text: str) -> None:
    """A reader sees the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
