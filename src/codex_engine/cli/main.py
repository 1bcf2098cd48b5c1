"""The ``codex-engine`` command line."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from codex_engine._version import __version__
from codex_engine.cli.options import ConfigFlags, config_flags, gather_flags

EXIT_CONFIG = 2

# Subcommands are imported when used: each pulls in a different part of the engine (the
# emulator needs aiohttp, login needs the auth stack), and `exec` should load only its own.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "exec": ("codex_engine.cli.exec_cmd", "exec_command"),
    "login": ("codex_engine.cli.login_cmd", "login_group"),
    "logout": ("codex_engine.cli.login_cmd", "logout_command"),
    "app-server": ("codex_engine.cli.app_server_cmd", "app_server_command"),
    "emulator": ("codex_engine.cli.emulator_cmd", "emulator_command"),
    "mcp": ("codex_engine.cli.mcp_cmd", "mcp_group"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _SUBCOMMANDS:
            module, attribute = _SUBCOMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


__all__ = ["cli", "main"]


def _configure_logging(verbose: int) -> None:
    level = os.environ.get("CODEX_ENGINE_LOG", "").upper() or (
        "DEBUG" if verbose > 1 else "INFO" if verbose == 1 else "WARNING"
    )
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs full URLs at INFO; keep them for -vv only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codex-engine")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-v info, -vv debug).")
@config_flags
@click.pass_context
def cli(ctx: click.Context, /, verbose: int, **flag_values: Any) -> None:
    """codex-engine: the Codex coding agent's core, in Python."""
    _configure_logging(verbose)
    ctx.obj = gather_flags(ctx, **flag_values)


@cli.group("features")
def features_group() -> None:
    """Inspect feature flags."""


@features_group.command("list")
@config_flags
@click.pass_context
def features_list(ctx: click.Context, /, **flag_values: Any) -> None:
    """Print every feature with its stage and effective value."""
    from rich.console import Console
    from rich.table import Table

    from codex_engine.cli.ansi import AnsiConsole, escape
    from codex_engine.config.features import Stage
    from codex_engine.config.loader import load_config
    from codex_engine.errors import ConfigError

    flags: ConfigFlags = gather_flags(ctx, **flag_values)
    try:
        config = load_config(overrides=flags.parsed(), profile=flags.profile)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    table = Table(box=None, pad_edge=False)
    table.add_column("feature")
    table.add_column("stage")
    table.add_column("enabled")
    for key, stage, enabled in config.features.items():
        if stage is Stage.REMOVED:
            continue  # accepted in config with a warning, but nothing to turn on
        table.add_row(key, stage.value, "true" if enabled else "false")
    Console(highlight=False).print(table)
    err = AnsiConsole(sys.stderr)
    for warning in config.feature_warnings:  # escaped: warnings name `[tables]`
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def main() -> None:
    from codex_engine.cli.inputs import check_arguments

    # Undecodable argv bytes would otherwise surface deep in the engine (encoding a request or
    # a rollout line) as a traceback; refuse them before anything runs.
    problem = check_arguments(sys.argv[1:])
    if problem is not None:
        click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    cli(prog_name="codex-engine")
