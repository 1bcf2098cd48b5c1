"""Stream events of a Responses API turn and the parser from wire payloads to those events.

The same parser serves SSE ``data:`` payloads and WebSocket text frames: both carry one JSON object
whose ``type`` names the event (:func:`decode_stream_message` decodes the text straight to its
event). Unknown event types are skipped, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec

from codex_engine.errors import CodexError
from codex_engine.protocol.error_mapping import (
    classify_failed_response,
    classify_incomplete_response,
)
from codex_engine.protocol.event_tags import payload_kind
from codex_engine.protocol.items import ItemError, ResponseItem, parse_item
from codex_engine.protocol.rate_limits import RateLimitSnapshot, parse_rate_limit_event

__all__ = [
    "Completed",
    "Created",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputTextDelta",
    "RateLimits",
    "ReasoningContentDelta",
    "ReasoningSummaryDelta",
    "ReasoningSummaryPartAdded",
    "ResponseEvent",
    "ServerModel",
    "StreamFailure",
    "TokenUsage",
    "decode_stream_message",
    "parse_stream_payload",
    "server_model_header",
]


class TokenUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of one response, or the sum of several."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_output_tokens=self.reasoning_output_tokens + other.reasoning_output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    @classmethod
    def from_wire(cls, usage: Mapping[str, Any] | None) -> TokenUsage | None:
        if not isinstance(usage, Mapping):
            return None

        def num(value: Any) -> int:
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        input_details = usage.get("input_tokens_details")
        output_details = usage.get("output_tokens_details")
        return cls(
            input_tokens=num(usage.get("input_tokens")),
            cached_input_tokens=num(
                input_details.get("cached_tokens") if isinstance(input_details, Mapping) else 0
            ),
            output_tokens=num(usage.get("output_tokens")),
            reasoning_output_tokens=num(
                output_details.get("reasoning_tokens") if isinstance(output_details, Mapping) else 0
            ),
            total_tokens=num(usage.get("total_tokens")),
        )


class Created(msgspec.Struct, frozen=True):
    response_id: str | None


class OutputItemAdded(msgspec.Struct, frozen=True):
    item: ResponseItem
    output_index: int | None = None


class OutputItemDone(msgspec.Struct, frozen=True):
    item: ResponseItem
    output_index: int | None = None


class OutputTextDelta(msgspec.Struct, frozen=True):
    delta: str
    item_id: str | None = None
    output_index: int | None = None


class ReasoningSummaryDelta(msgspec.Struct, frozen=True):
    delta: str
    summary_index: int | None = None
    item_id: str | None = None


class ReasoningContentDelta(msgspec.Struct, frozen=True):
    delta: str
    content_index: int | None = None
    item_id: str | None = None


class ReasoningSummaryPartAdded(msgspec.Struct, frozen=True):
    summary_index: int | None = None
    item_id: str | None = None


class Completed(msgspec.Struct, frozen=True):
    response_id: str | None
    token_usage: TokenUsage | None


class RateLimits(msgspec.Struct, frozen=True):
    snapshot: RateLimitSnapshot


class ServerModel(msgspec.Struct, frozen=True):
    """The model that actually served the response (``OpenAI-Model``: an HTTP response header,
    or a header the WebSocket's ``response.created`` carries)."""

    model: str


class StreamFailure(msgspec.Struct, frozen=True):
    """The server ended the response with an error (``response.failed`` / ``.incomplete``)."""

    error: CodexError


ResponseEvent = (
    Created
    | OutputItemAdded
    | OutputItemDone
    | OutputTextDelta
    | ReasoningSummaryDelta
    | ReasoningContentDelta
    | ReasoningSummaryPartAdded
    | Completed
    | RateLimits
    | ServerModel
    | StreamFailure
)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _item(payload: Mapping[str, Any]) -> ResponseItem | None:
    try:
        return parse_item(payload.get("item"))
    except ItemError:
        return None


#: The response header naming the model that served a request.
SERVER_MODEL_HEADER = "openai-model"


def server_model_header(headers: Mapping[str, Any]) -> ServerModel | None:
    """The serving model from response headers (any case), if they name one."""
    for name, value in headers.items():
        named = isinstance(name, str) and name.lower() == SERVER_MODEL_HEADER
        if named and isinstance(value, str) and value.strip():
            return ServerModel(value.strip())
    return None


def parse_stream_payload(payload: Any) -> ResponseEvent | None:
    """Map one decoded event payload to a :data:`ResponseEvent`; ``None`` means skip it."""
    if not isinstance(payload, Mapping):
        return None
    kind = payload.get("type")
    if kind == "response.output_text.delta":
        delta = _str(payload.get("delta"))
        if delta is None:
            return None
        return OutputTextDelta(
            delta, _str(payload.get("item_id")), _int(payload.get("output_index"))
        )
    if kind == "response.output_item.done" or kind == "response.output_item.added":
        item = _item(payload)
        if item is None:
            return None
        index = _int(payload.get("output_index"))
        if kind == "response.output_item.done":
            return OutputItemDone(item, index)
        return OutputItemAdded(item, index)
    if kind == "response.created":
        response = payload.get("response")
        if not isinstance(response, Mapping):
            return None
        # Over WebSocket there are no per-response headers: the server puts them here.
        headers = response.get("headers")
        if isinstance(headers, Mapping):
            served = server_model_header(headers)
            if served is not None:
                return served
        return Created(_str(response.get("id")))
    if kind == "response.completed":
        response = payload.get("response")
        if not isinstance(response, Mapping):
            return None
        return Completed(_str(response.get("id")), TokenUsage.from_wire(response.get("usage")))
    if kind == "response.reasoning_summary_text.delta":
        delta = _str(payload.get("delta"))
        if delta is None:
            return None
        return ReasoningSummaryDelta(
            delta, _int(payload.get("summary_index")), _str(payload.get("item_id"))
        )
    if kind == "response.reasoning_text.delta":
        delta = _str(payload.get("delta"))
        if delta is None:
            return None
        return ReasoningContentDelta(
            delta, _int(payload.get("content_index")), _str(payload.get("item_id"))
        )
    if kind == "response.reasoning_summary_part.added":
        return ReasoningSummaryPartAdded(
            _int(payload.get("summary_index")), _str(payload.get("item_id"))
        )
    if kind == "response.failed":
        response = payload.get("response")
        return StreamFailure(
            classify_failed_response(response if isinstance(response, Mapping) else None)
        )
    if kind == "response.incomplete":
        response = payload.get("response")
        return StreamFailure(
            classify_incomplete_response(response if isinstance(response, Mapping) else None)
        )
    if kind == "codex.rate_limits":
        snapshot = parse_rate_limit_event(payload)
        return RateLimits(snapshot) if snapshot is not None else None
    return None


# --- the hot path: SSE data / WebSocket text straight to an event ------------------------------


class _Response(msgspec.Struct):
    # What the fast path reads of a response object; its ``output`` array is skipped unbuilt.
    id: Any = None
    usage: Any = None
    headers: Any = None


class _Envelope(msgspec.Struct):
    """The members of a stream message the frequent events carry. A message whose members
    have other types fails to decode into it and takes the general path instead."""

    type: str
    delta: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    summary_index: int | None = None
    content_index: int | None = None
    item: Any = None
    response: _Response | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)

# Kinds whose event needs the whole payload (an error's details, rate-limit windows).
_WHOLE_PAYLOAD = frozenset({"response.failed", "response.incomplete", "codex.rate_limits"})


def _from_envelope(kind: str, env: _Envelope) -> ResponseEvent | None:
    if kind == "response.output_text.delta":
        if env.delta is None:
            return None
        return OutputTextDelta(env.delta, env.item_id, env.output_index)
    if kind == "response.output_item.done" or kind == "response.output_item.added":
        try:
            item = parse_item(env.item)
        except ItemError:
            return None
        if kind == "response.output_item.done":
            return OutputItemDone(item, env.output_index)
        return OutputItemAdded(item, env.output_index)
    if kind == "response.reasoning_summary_text.delta":
        if env.delta is None:
            return None
        return ReasoningSummaryDelta(env.delta, env.summary_index, env.item_id)
    if kind == "response.reasoning_text.delta":
        if env.delta is None:
            return None
        return ReasoningContentDelta(env.delta, env.content_index, env.item_id)
    if kind == "response.reasoning_summary_part.added":
        return ReasoningSummaryPartAdded(env.summary_index, env.item_id)
    response = env.response
    if kind == "response.created":
        if response is None:
            return None
        if isinstance(response.headers, Mapping):
            served = server_model_header(response.headers)
            if served is not None:
                return served
        return Created(_str(response.id))
    if kind == "response.completed":
        if response is None:
            return None
        return Completed(_str(response.id), TokenUsage.from_wire(response.usage))
    return None


def decode_stream_message(data: str | bytes) -> tuple[str, ResponseEvent | None]:
    """The kind (:func:`~codex_engine.protocol.event_tags.payload_kind`) and the event
    (``None``: skip it) of one SSE ``data`` or WebSocket text frame; the same result as
    ``json.loads`` then :func:`parse_stream_payload`, without building the whole payload for
    the frequent events. Raises ``ValueError`` when ``data`` is not JSON."""
    try:
        env = _ENVELOPE.decode(data)
    except msgspec.ValidationError:
        pass  # JSON of another shape (not an object, no string type, odd members)
    except msgspec.DecodeError:
        pass  # maybe JSON only Python's parser accepts (NaN, lone surrogates): it decides
    else:
        kind = env.type
        if kind and kind not in _WHOLE_PAYLOAD:
            return kind, _from_envelope(kind, env)
    payload = json.loads(data)
    return payload_kind(payload), parse_stream_payload(payload)
