"""What a family of tools offers a session (:class:`Toolset`: specs, and calls by name) and
what each call gets to work with (:class:`ToolContext`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import msgspec

from codex_engine.core.approvals import ApprovalsReviewer, Approver
from codex_engine.core.events import TurnEvent
from codex_engine.core.settings import SessionSettings
from codex_engine.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
)
from codex_engine.telemetry.metrics import TurnMetrics

__all__ = ["FreeformToolset", "ToolContext", "Toolset", "call_name"]


class ToolContext(msgspec.Struct, frozen=True):
    """What a tool call may use: the turn's settings, who decides on approvals, the turn's
    metrics, and where its events go."""

    settings: SessionSettings
    approvals_reviewer: ApprovalsReviewer
    #: Asked when a call needs a person's yes; ``None``: nobody can be asked.
    approver: Approver | None
    metrics: TurnMetrics
    emit: Callable[[TurnEvent], None]


class Toolset(Protocol):
    """Tools the model is offered, and the calls to them (by name) that this set carries out.

    A set may offer tools it never runs itself (the hosted ``web_search``, run by the API).
    """

    async def prepare(self) -> list[str]:
        """Get ready for a turn's first request (e.g. wait, bounded, for MCP servers still
        starting); the problems found, each told to the user once as a warning."""
        ...

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        """The tool specs for a request made under ``settings``."""
        ...

    def handles(self, name: str) -> bool:
        """Whether a function call named ``name`` is this set's to carry out."""
        ...

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        """Carry out one call; failures are told to the model in the output, not raised."""
        ...


@runtime_checkable
class FreeformToolset(Protocol):
    """A toolset that also carries out custom (freeform) tool calls: raw text in the tool's
    grammar instead of JSON arguments (``apply_patch`` for the models that get it so)."""

    def handles(self, name: str) -> bool: ...

    async def call_custom(self, call: CustomToolCall, ctx: ToolContext) -> CustomToolCallOutput:
        """Carry out one custom call; failures are told to the model in the output."""
        ...


def call_name(call: FunctionCall) -> str:
    """The tool a call names: a call made inside a namespace (``namespace`` + ``name``, as
    the reference sends MCP tools) names ``NAMESPACE__NAME``, the flat name offered."""
    namespace = call.extra.get("namespace")
    if isinstance(namespace, str) and namespace:
        return f"{namespace.removesuffix('__')}__{call.name}"
    return call.name
