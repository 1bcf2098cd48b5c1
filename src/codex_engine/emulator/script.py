"""How a test scripts the emulator: `Reply` (one model answer) and `HandshakeReply` values.

Pure data: `render` turns a reply into events, the handlers decide when and how they travel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypedDict, Unpack

__all__ = [
    "DEFAULT_TIMING_METRICS",
    "HandshakeReply",
    "IdAllocator",
    "RawEvent",
    "Reply",
    "ReplyContext",
    "StreamOptions",
    "default_error_body",
]

JsonDict = dict[str, Any]
DropMode = Literal["close", "abort"]

#: The `timing_metrics` of the `responsesapi.websocket_timing` event the emulator sends before
#: each `response.completed` on a WebSocket whose handshake asked for it.
DEFAULT_TIMING_METRICS: Mapping[str, float] = {
    "responses_duration_excl_engine_and_client_tool_time_ms": 12,
    "engine_service_total_ms": 240,
    "engine_iapi_ttft_total_ms": 95,
    "engine_service_ttft_total_ms": 80,
    "engine_iapi_tbt_across_engine_calls_ms": 14,
    "engine_service_tbt_across_engine_calls_ms": 11,
}


@dataclass(frozen=True)
class RawEvent:
    """An event sent exactly as written, for tests of broken ones: over SSE its `data` verbatim
    after `event: <event>`, over WebSocket `data` as one text frame (`event` unused)."""

    data: str
    event: str | None = None


#: One streamed event: a JSON object, or raw text.
Event = JsonDict | RawEvent


class StreamOptions(TypedDict, total=False):
    """Options accepted by every streaming `Reply` constructor."""

    drop_after: int | None
    drop_mode: DropMode
    ws_close_code: int
    first_event_delay: float | None
    event_delay: float | None
    oversized_event_bytes: int | None
    headers: Mapping[str, str] | None
    turn_state: str | None
    timing_metrics: Mapping[str, Any] | None


class IdAllocator:
    """Per-emulator counters behind `resp_<n>`, `msg_<n>`, `fc_<n>`, `call_<n>`, `req_<n>` ids."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n}"


@dataclass(frozen=True)
class ReplyContext:
    """The request a reply answers, plus what rendering needs from the emulator."""

    body: Mapping[str, Any]
    ids: IdAllocator
    created_at: int = 0

    @property
    def model(self) -> str:
        model = self.body.get("model")
        return model if isinstance(model, str) else "unknown"

    def input_tokens(self) -> int:
        return max(1, len(json.dumps(self.body, ensure_ascii=False)) // 4)


ReplyKind = Literal[
    "status", "text", "function_call", "custom_tool_call", "events", "failed", "empty", "scripted"
]


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one model request (HTTP POST or WebSocket `response.create`).

    Build with the classmethods; the same value works for both transports. On WebSocket a
    `status` reply becomes an error frame and `headers`/`turn_state` of streaming replies are
    not sent (there are no per-response headers on a socket).
    """

    kind: ReplyKind
    status_code: int = 200
    body: Mapping[str, Any] | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    text_value: str = ""
    usage: Mapping[str, Any] | None = None
    response_id: str | None = None
    call_name: str = ""
    call_arguments: str = ""
    call_id: str | None = None
    event_list: tuple[Mapping[str, Any] | RawEvent, ...] = ()
    error: Mapping[str, Any] | None = None
    drop_after: int | None = None
    drop_mode: DropMode = "close"
    ws_close_code: int = 1011
    first_event_delay: float | None = None
    event_delay: float | None = None
    oversized_event_bytes: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    turn_state: str | None = None
    #: This reply's `timing_metrics` (WebSocket, when asked); None: the emulator's.
    timing_metrics: Mapping[str, Any] | None = None
    #: A `text` reply's reasoning item before the message: summary parts, raw text parts.
    reasoning_summary: tuple[str, ...] = ()
    reasoning_text: tuple[str, ...] = ()
    #: The model that "served" the reply when not the requested one: the `OpenAI-Model`
    #: header (HTTP), the headers `response.created` carries (WebSocket), `response.model`.
    served_model: str | None = None

    @classmethod
    def status(
        cls,
        code: int,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
    ) -> Reply:
        """A non-streaming error answer; `body` defaults to an OpenAI-style error for `code`."""
        return cls(
            kind="status",
            status_code=code,
            body=body,
            headers=dict(headers or {}),
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
        )

    @classmethod
    def text(
        cls,
        text: str,
        *,
        usage: Mapping[str, Any] | None = None,
        response_id: str | None = None,
        reasoning_summary: Sequence[str] = (),
        reasoning_text: Sequence[str] = (),
        served_model: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """An assistant message streamed word by word, then `response.completed`.

        ``reasoning_summary``/``reasoning_text`` put a reasoning item before the message (each
        part streamed word by word); ``served_model`` answers as another model than requested.
        """
        reply = cls(
            kind="text",
            text_value=text,
            usage=usage,
            response_id=response_id,
            reasoning_summary=tuple(reasoning_summary),
            reasoning_text=tuple(reasoning_text),
            served_model=served_model,
        )
        if served_model is not None:
            headers = {**(options.get("headers") or {}), "OpenAI-Model": served_model}
            options = {**options, "headers": headers}
        return reply.with_options(**options)

    @classmethod
    def function_call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str,
        call_id: str | None = None,
        *,
        usage: Mapping[str, Any] | None = None,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """One `function_call` output item; dict arguments are JSON-encoded."""
        args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
        reply = cls(
            kind="function_call",
            call_name=name,
            call_arguments=args,
            call_id=call_id,
            usage=usage,
            response_id=response_id,
        )
        return reply.with_options(**options)

    @classmethod
    def custom_tool_call(
        cls,
        name: str,
        tool_input: str,
        call_id: str | None = None,
        *,
        usage: Mapping[str, Any] | None = None,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """One `custom_tool_call` output item (a freeform tool): `tool_input` is its raw text."""
        reply = cls(
            kind="custom_tool_call",
            call_name=name,
            call_arguments=tool_input,
            call_id=call_id,
            usage=usage,
            response_id=response_id,
        )
        return reply.with_options(**options)

    @classmethod
    def events(
        cls, events: Sequence[Mapping[str, Any] | RawEvent], **options: Unpack[StreamOptions]
    ) -> Reply:
        """Exactly these events, untouched (no sequence numbers are added); a
        :class:`RawEvent` goes out as written."""
        return cls(kind="events", event_list=tuple(events)).with_options(**options)

    @classmethod
    def failed(
        cls,
        error: Mapping[str, Any],
        *,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """`response.created` then `response.failed` carrying `response.error = error`."""
        reply = cls(kind="failed", error=error, response_id=response_id)
        return reply.with_options(**options)

    @classmethod
    def empty(cls, *, response_id: str | None = None, **options: Unpack[StreamOptions]) -> Reply:
        """`response.created` then `response.completed` with no output (a prewarm answer)."""
        return cls(kind="empty", response_id=response_id).with_options(**options)

    @classmethod
    def scripted(cls, **options: Unpack[StreamOptions]) -> Reply:
        """What the built-in model would answer, with stream options (delays, drops...)."""
        return cls(kind="scripted").with_options(**options)

    def with_options(self, **options: Unpack[StreamOptions]) -> Reply:
        """A copy with stream options changed; `headers` are copied."""
        values: dict[str, Any] = dict(options)
        if "headers" in values:
            values["headers"] = dict(values["headers"] or {})
        return replace(self, **values)

    @property
    def is_status(self) -> bool:
        return self.kind == "status"


@dataclass(frozen=True)
class HandshakeReply:
    """How to answer one WebSocket upgrade attempt: accept (optionally late) or refuse."""

    status: int | None = None
    delay: float | None = None
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    turn_state: str | None = None

    @classmethod
    def accept(
        cls,
        *,
        delay: float | None = None,
        turn_state: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HandshakeReply:
        return cls(delay=delay, turn_state=turn_state, headers=dict(headers or {}))

    @classmethod
    def refuse(
        cls,
        status: int,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float | None = None,
    ) -> HandshakeReply:
        return cls(status=status, body=body, headers=dict(headers or {}), delay=delay)


# --- errors -------------------------------------------------------------------------------------

_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this endpoint.", "permission_error", None),
    404: ("Not found.", "invalid_request_error", None),
    426: ("Upgrade required.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests. Please try again in 1.5s.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request.",
        "server_error",
        None,
    ),
    503: ("The server is overloaded. Please retry later.", "server_error", "server_is_overloaded"),
}


def default_error_body(status: int, message: str | None = None) -> JsonDict:
    """An OpenAI-style `{"error": {...}}` body for `status`."""
    default_message, kind, code = _DEFAULT_ERRORS.get(
        status, (f"The server answered with status {status}.", "server_error", None)
    )
    return {"error": {"message": message or default_message, "type": kind, "code": code}}
