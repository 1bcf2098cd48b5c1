"""Config flags shared by every subcommand: ``-c key=value``, ``--enable``, ``--disable``, ``-p``.

They are accepted before the subcommand (as the reference CLI and the official SDK pass them) and
after it; both places add up, later flags winning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
import msgspec

from codex_engine.config.overrides import feature_toggle, parse_override

__all__ = ["ConfigFlags", "config_flags", "gather_flags"]

F = TypeVar("F", bound=Callable[..., Any])


class ConfigFlags(msgspec.Struct, frozen=True):
    overrides: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    profile: str | None = None

    def merged(self, later: ConfigFlags) -> ConfigFlags:
        return ConfigFlags(
            self.overrides + later.overrides,
            self.enable + later.enable,
            self.disable + later.disable,
            later.profile or self.profile,
        )

    def parsed(self) -> list[tuple[list[str], Any]]:
        """All flags as ``(key path, value)`` overrides, in the order they apply."""
        result = [parse_override(raw) for raw in self.overrides]
        result += [feature_toggle(key, True) for key in self.enable]
        result += [feature_toggle(key, False) for key in self.disable]
        return result


def config_flags(func: F) -> F:
    decorators: Sequence[Callable[[F], F]] = (
        click.option(
            "-c",
            "--config",
            "config_overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a config.toml value (dotted key, TOML value; raw string otherwise).",
        ),
        click.option(
            "--enable", "enable", multiple=True, metavar="FEATURE", help="Turn a feature on."
        ),
        click.option(
            "--disable", "disable", multiple=True, metavar="FEATURE", help="Turn a feature off."
        ),
        click.option("-p", "--profile", "profile", default=None, help="Config profile to use."),
    )
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def gather_flags(ctx: click.Context, **kwargs: Any) -> ConfigFlags:
    """The group-level flags (stored on the context) merged with this command's own."""
    parent = ctx.find_object(ConfigFlags) or ConfigFlags()
    own = ConfigFlags(
        tuple(kwargs.get("config_overrides") or ()),
        tuple(kwargs.get("enable") or ()),
        tuple(kwargs.get("disable") or ()),
        kwargs.get("profile"),
    )
    return parent.merged(own)
