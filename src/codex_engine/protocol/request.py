"""Building a Responses API request: the JSON body and the headers, with no I/O.

Field order and header names follow the reference CLI's wire captures, so a server (or a capture
diff) sees the same request from codex-engine as from the reference.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codex_engine._version import __version__
from codex_engine.protocol.items import ResponseItem, item_to_json

__all__ = [
    "OPENAI_BETA_WEBSOCKETS",
    "ClientIdentity",
    "Prompt",
    "ReasoningParams",
    "RequestContext",
    "build_request_body",
    "build_request_headers",
    "default_identity",
    "sanitize_header_value",
]

DEFAULT_ORIGINATOR = "codex_engine"
OPENAI_BETA_WEBSOCKETS = "responses_websockets=2026-02-06"
_HEADER_UNSAFE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the model is asked: instructions, the conversation so far and the tools it may call."""

    input: Sequence[ResponseItem]
    base_instructions: str
    tools: Sequence[Mapping[str, Any]] = ()
    parallel_tool_calls: bool = False
    output_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReasoningParams:
    effort: str | None = None
    summary: str | None = None

    def to_json(self) -> dict[str, str] | None:
        body: dict[str, str] = {}
        if self.effort is not None and self.effort != "none":
            body["effort"] = self.effort
        if self.summary is not None and self.summary != "none":
            body["summary"] = self.summary
        return body


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who is calling: the ``originator`` header and the ``User-Agent``."""

    originator: str
    user_agent: str


def sanitize_header_value(value: str) -> str:
    """Replace what an HTTP header may not carry, as the reference does for its User-Agent."""
    return _HEADER_UNSAFE.sub("_", value)


def default_identity(originator: str | None = None, suffix: str | None = None) -> ClientIdentity:
    name = originator or DEFAULT_ORIGINATOR
    ua = (
        f"{name}/{__version__} ({platform.system()} {platform.release()}; {platform.machine()}) "
        f"python/{platform.python_version()}"
    )
    if suffix:
        ua += f" ({suffix})"
    return ClientIdentity(originator=name, user_agent=sanitize_header_value(ua))


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Per-request values that are not part of the prompt."""

    model: str
    thread_id: str
    turn_id: str | None = None
    reasoning: ReasoningParams | None = None
    store: bool = False
    service_tier: str | None = None
    verbosity: str | None = None
    turn_metadata: Mapping[str, Any] | None = None
    extra_client_metadata: Mapping[str, str] = field(default_factory=dict)

    def turn_metadata_header(self) -> str | None:
        if not self.turn_metadata:
            return None
        # ensure_ascii keeps the header valid whatever the paths contain.
        return json.dumps(self.turn_metadata, separators=(",", ":"), ensure_ascii=True)


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
        metadata["x-codex-turn-metadata"] = header
    metadata.update(ctx.extra_client_metadata)
    body["client_metadata"] = metadata
    return body


def build_request_headers(
    *,
    identity: ClientIdentity,
    ctx: RequestContext,
    bearer: str | None,
    account_id: str | None = None,
    turn_state: str | None = None,
    beta_features: str | None = None,
    provider_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers shared by the HTTP request and the WebSocket handshake (no transport headers)."""
    headers: dict[str, str] = {}
    if provider_headers:
        headers.update(provider_headers)
    if beta_features:
        headers["x-codex-beta-features"] = beta_features
    if turn_state is not None:
        headers["x-codex-turn-state"] = turn_state
    metadata = ctx.turn_metadata_header()
    if metadata is not None:
        headers["x-codex-turn-metadata"] = metadata
    headers["x-client-request-id"] = ctx.thread_id
    headers["session-id"] = ctx.thread_id
    headers["thread-id"] = ctx.thread_id
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if account_id is not None:
        headers["ChatGPT-Account-ID"] = account_id
    headers["originator"] = identity.originator
    headers["User-Agent"] = identity.user_agent
    return headers
