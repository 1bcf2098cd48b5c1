"""``codex-engine mcp list|get|add|remove``: the configured MCP servers, as ``codex mcp`` shows
and edits them (config.toml is edited table by table; the rest of the file stays as it is)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from codex_engine.cli.options import ConfigFlags, config_flags, gather_flags

__all__ = ["mcp_group"]

EXIT_CONFIG = 2
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _config(ctx: click.Context, flag_values: dict[str, Any]) -> Any:
    from codex_engine.config.loader import load_config
    from codex_engine.errors import ConfigError

    flags: ConfigFlags = gather_flags(ctx, **flag_values)
    try:
        return load_config(overrides=flags.parsed(), profile=flags.profile)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)


def _json(server: Any, *, detail: bool) -> dict[str, Any]:
    from codex_engine.config.mcp_servers import StdioTransport

    transport = server.transport
    if isinstance(transport, StdioTransport):
        wire: dict[str, Any] = {
            "type": "stdio",
            "command": transport.command,
            "args": list(transport.args),
            "env": dict(transport.env) or None,
            "env_vars": list(transport.env_vars),
            "cwd": transport.cwd,
        }
    else:
        wire = {
            "type": "streamable_http",
            "url": transport.url,
            "bearer_token_env_var": transport.bearer_token_env_var,
            "http_headers": dict(transport.http_headers) or None,
            "env_http_headers": dict(transport.env_http_headers) or None,
        }
    data: dict[str, Any] = {"name": server.name, "enabled": server.enabled, "transport": wire}
    if detail:
        data["enabled_tools"] = sorted(server.enabled_tools) if server.enabled_tools else None
        data["disabled_tools"] = sorted(server.disabled_tools) or None
    data["startup_timeout_sec"] = server.startup_timeout_s
    data["tool_timeout_sec"] = server.tool_timeout_s
    if not detail:
        data["auth_status"] = "unsupported"
    return data


def _rows(table: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@click.group("mcp")
def mcp_group() -> None:
    """Manage the MCP servers of config.toml ([mcp_servers])."""


@mcp_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_flags
@click.pass_context
def mcp_list(ctx: click.Context, /, as_json: bool, **flag_values: Any) -> None:
    """List the configured MCP servers."""
    from codex_engine.config.mcp_servers import StdioTransport

    servers = list(_config(ctx, flag_values).mcp_servers.values())
    if as_json:
        click.echo(json.dumps([_json(s, detail=False) for s in servers], indent=2))
        return
    if not servers:
        click.echo(
            "No MCP servers configured yet. Try `codex-engine mcp add my-tool -- my-command`."
        )
        return
    status = {True: "enabled", False: "disabled"}
    stdio = [s for s in servers if isinstance(s.transport, StdioTransport)]
    http = [s for s in servers if not isinstance(s.transport, StdioTransport)]
    if stdio:
        table = [["Name", "Command", "Args", "Env", "Cwd", "Status", "Auth"]]
        for s in stdio:
            t = s.transport
            env = ", ".join(f"{k}=*****" for k in t.env) or "-"
            args = " ".join(t.args) or "-"
            row = [s.name, t.command, args, env, t.cwd or "-", status[s.enabled], "Unsupported"]
            table.append(row)
        _rows(table)
    if stdio and http:
        click.echo()
    if http:
        table = [["Name", "Url", "Bearer Token Env Var", "Status", "Auth"]]
        for s in http:
            t = s.transport
            token = t.bearer_token_env_var or "-"
            table.append([s.name, t.url, token, status[s.enabled], "Unsupported"])
        _rows(table)


@mcp_group.command("get")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_flags
@click.pass_context
def mcp_get(ctx: click.Context, /, name: str, as_json: bool, **flag_values: Any) -> None:
    """Show one configured MCP server."""
    server = _config(ctx, flag_values).mcp_servers.get(name)
    if server is None:
        click.echo(f"error: No MCP server named '{name}' found.", err=True)
        ctx.exit(1)
    data = _json(server, detail=True)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(name)
    click.echo(f"  enabled: {'true' if server.enabled else 'false'}")
    transport = data["transport"]
    click.echo(f"  transport: {transport['type']}")
    for key, value in transport.items():
        if key == "type" or key == "env_vars":
            continue
        if isinstance(value, list):
            value = " ".join(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}=*****" for k in value)
        click.echo(f"  {key}: {value if value else '-'}")
    click.echo(f"  startup_timeout_sec: {server.startup_timeout_s:g}")
    click.echo(f"  tool_timeout_sec: {server.tool_timeout_s:g}")
    click.echo(f"  remove: codex-engine mcp remove {name}")


def _config_path() -> Path:
    import os

    from codex_engine.config.loader import resolve_codex_home

    return resolve_codex_home(None, os.environ) / "config.toml"


def _edit(path: Path, text: str) -> None:
    """Replace the file in one step (a crash leaves the old file or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _read(ctx: click.Context, path: Path) -> str:
    from codex_engine.config.config_file import read_config_file
    from codex_engine.errors import ConfigError

    try:
        read_config_file(path)  # refuses a file that is not valid TOML, in one line
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    return path.read_text(encoding="utf-8") if path.exists() else ""


@mcp_group.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="Set for a stdio server.")
@click.option("--url", default=None, help="URL of a streamable HTTP server.")
@click.option("--bearer-token-env-var", default=None, metavar="VAR", help="HTTP bearer token.")
@click.pass_context
def mcp_add(
    ctx: click.Context,
    /,
    name: str,
    command: tuple[str, ...],
    env: tuple[str, ...],
    url: str | None,
    bearer_token_env_var: str | None,
) -> None:
    """Add (or replace) a server: `add NAME -- COMMAND ARGS...` or `add NAME --url URL`."""
    from codex_engine.config.mcp_edit import add_server

    if not _NAME.match(name):
        raise click.UsageError("the name may use letters, digits, `_` and `-` only")
    if (url is None) == (not command):
        raise click.UsageError("give either `--url URL` or `-- COMMAND ARGS...`")
    entry: dict[str, Any]
    if url is not None:
        if env:
            raise click.UsageError("--env is only for stdio servers (`-- COMMAND`)")
        entry = {"url": url}
        if bearer_token_env_var:
            entry["bearer_token_env_var"] = bearer_token_env_var
    else:
        if bearer_token_env_var:
            raise click.UsageError("--bearer-token-env-var is only for --url servers")
        entry = {"command": command[0]}
        if command[1:]:
            entry["args"] = list(command[1:])
        pairs = [item.split("=", 1) for item in env]
        if any(len(pair) != 2 or not pair[0] for pair in pairs):
            raise click.UsageError("--env takes KEY=VALUE")
        if pairs:
            entry["env"] = dict(pairs)
    path = _config_path()
    _edit(path, add_server(_read(ctx, path), name, entry))
    click.echo(f"Added global MCP server '{name}'.")


@mcp_group.command("remove")
@click.argument("name")
@click.pass_context
def mcp_remove(ctx: click.Context, /, name: str) -> None:
    """Remove a server's tables from config.toml."""
    from codex_engine.config.mcp_edit import remove_server
    from codex_engine.errors import ConfigError

    path = _config_path()
    try:
        edited = remove_server(_read(ctx, path), name)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    if edited is None:
        click.echo(f"No MCP server named '{name}' found.")
        return
    _edit(path, edited)
    click.echo(f"Removed global MCP server '{name}'.")
