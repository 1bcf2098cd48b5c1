"""Showing a turn: the ``Renderer`` protocol ``exec`` drives, and its two implementations
(``render_human`` for the terminal, ``render_json`` for ``--json``)."""

from __future__ import annotations

from typing import Protocol

from codex_engine.cli.render_human import HumanRenderer
from codex_engine.cli.render_json import JsonRenderer, mcp_item
from codex_engine.core.events import TurnEvent

__all__ = ["HumanRenderer", "JsonRenderer", "Renderer", "mcp_item"]


class Renderer(Protocol):
    def session_started(self, thread_id: str, model: str, provider: str, cwd: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def event(self, event: TurnEvent) -> None: ...
    def fatal(self, message: str) -> None: ...
