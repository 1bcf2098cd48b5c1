"""Building a Responses API request body, with no I/O (its headers: ``protocol/headers.py``).

Field order follows the reference CLI's wire captures, so a server (or a capture diff) sees the
same request from codex-engine as from the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The caller's identity travels with the request types; it is defined with the headers it fills.
import msgspec

from codex_engine.protocol.headers import (
    TURN_METADATA,
    ClientIdentity,
    default_identity,
    encode_turn_metadata,
)
from codex_engine.protocol.items import ResponseItem, item_to_json

__all__ = [
    "ClientIdentity",
    "Prompt",
    "ReasoningParams",
    "RequestContext",
    "build_request_body",
    "default_identity",
]


class Prompt(msgspec.Struct, frozen=True):
    """What the model is asked: instructions, the conversation so far and the tools it may call."""

    input: Sequence[ResponseItem]
    base_instructions: str
    tools: Sequence[Mapping[str, Any]] = ()
    parallel_tool_calls: bool = False
    output_schema: Mapping[str, Any] | None = None


class ReasoningParams(msgspec.Struct, frozen=True):
    effort: str | None = None
    summary: str | None = None

    def to_json(self) -> dict[str, str] | None:
        body: dict[str, str] = {}
        if self.effort is not None and self.effort != "none":
            body["effort"] = self.effort
        if self.summary is not None and self.summary != "none":
            body["summary"] = self.summary
        return body


class RequestContext(msgspec.Struct, frozen=True):
    """Per-request values that are not part of the prompt."""

    model: str
    thread_id: str
    turn_id: str | None = None
    reasoning: ReasoningParams | None = None
    store: bool = False
    service_tier: str | None = None
    verbosity: str | None = None
    turn_metadata: Mapping[str, Any] | None = None
    extra_client_metadata: Mapping[str, str] = msgspec.field(default_factory=dict)

    def turn_metadata_header(self) -> str | None:
        return encode_turn_metadata(self.turn_metadata)


def build_request_body(prompt: Prompt, ctx: RequestContext) -> dict[str, Any]:
    """The ``POST /responses`` JSON body (also the payload of a WebSocket ``response.create``)."""
    reasoning = ctx.reasoning.to_json() if ctx.reasoning is not None else None
    body: dict[str, Any] = {"model": ctx.model}
    if prompt.base_instructions:
        body["instructions"] = prompt.base_instructions
    body["input"] = [item_to_json(item) for item in prompt.input]
    body["tools"] = [dict(tool) for tool in prompt.tools]
    body["tool_choice"] = "auto"
    body["parallel_tool_calls"] = prompt.parallel_tool_calls
    body["reasoning"] = reasoning
    body["store"] = ctx.store
    body["stream"] = True
    body["include"] = ["reasoning.encrypted_content"] if reasoning is not None else []
    if ctx.service_tier is not None:
        body["service_tier"] = ctx.service_tier
    body["prompt_cache_key"] = ctx.thread_id
    text: dict[str, Any] = {}
    if ctx.verbosity is not None:
        text["verbosity"] = ctx.verbosity
    if prompt.output_schema is not None:
        text["format"] = {
            "type": "json_schema",
            "strict": True,
            "schema": dict(prompt.output_schema),
            "name": "codex_output_schema",
        }
    if text:
        body["text"] = text
    metadata: dict[str, str] = {"session_id": ctx.thread_id, "thread_id": ctx.thread_id}
    if ctx.turn_id is not None:
        metadata["turn_id"] = ctx.turn_id
    header = ctx.turn_metadata_header()
    if header is not None:
        metadata[TURN_METADATA] = header
    metadata.update(ctx.extra_client_metadata)
    body["client_metadata"] = metadata
    return body
