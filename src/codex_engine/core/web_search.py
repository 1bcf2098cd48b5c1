"""Web search mode (``disabled`` | ``cached`` | ``live``): per-turn resolution and the tool spec.

``cached`` searches an index without fetching pages live; ``live`` lets the tool reach the web.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codex_engine.config.loader import WebSearchMode
from codex_engine.errors import ConfigError

__all__ = [
    "WEB_SEARCH_MODES",
    "WebSearchMode",
    "resolve_web_search_mode",
    "web_search_tool",
]

WEB_SEARCH_MODES: tuple[WebSearchMode, ...] = ("disabled", "cached", "live")


def _check(value: str, source: str) -> WebSearchMode:
    if value not in WEB_SEARCH_MODES:
        raise ConfigError(
            f"{source} is {value!r}; use one of "
            + ", ".join(f'"{mode}"' for mode in WEB_SEARCH_MODES)
        )
    return value


def resolve_web_search_mode(
    configured: str | None, *, sandbox_mode: str, per_turn: str | None = None
) -> WebSearchMode:
    """The mode for one turn: a per-turn override, else the explicit config value, else ``live``
    when commands already run without a sandbox (``danger-full-access``), else ``cached``.

    Raises :class:`ConfigError` for a value that is not a mode.
    """
    if per_turn is not None:
        return _check(per_turn, "the turn's web_search override")
    if configured is not None:
        return _check(configured, "`web_search` in config.toml")
    if sandbox_mode == "danger-full-access":
        return "live"
    return "cached"


def web_search_tool(
    mode: WebSearchMode, *, content_types: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The ``tools`` entry for ``mode``; ``None`` when search is disabled. ``content_types``
    (``text``, ``image``) for the models whose catalog says they search images too."""
    if mode == "disabled":
        return None
    tool: dict[str, Any] = {"type": "web_search", "external_web_access": mode == "live"}
    if content_types:
        tool["search_content_types"] = list(content_types)
    return tool
