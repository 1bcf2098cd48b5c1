"""Per-turn runtime summary: the one counter of a turn (requests, retries, events, tool calls,
and the time per kind of work), for the turn's summary and the CLI summary line.

Test helpers that read exported metrics back live in :mod:`codex_engine.telemetry.testing`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from codex_engine.protocol.server_timing import ServerTiming

__all__ = ["RuntimeSummary", "Tally"]


class Tally(msgspec.Struct):
    """How many times something happened and the milliseconds it took in total."""

    count: int = 0
    duration_ms: float = 0.0

    def add(self, duration_ms: float) -> None:
        self.count += 1
        self.duration_ms += duration_ms

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.duration_ms += other.duration_ms

    def to_json(self) -> dict[str, int]:
        return {"count": self.count, "duration_ms": round(self.duration_ms)}


class RuntimeSummary(msgspec.Struct):
    """What one turn spent: filled in by ``telemetry.turn_metrics.TurnMetrics`` (time per kind
    of work) and by the turn session and the session (the plain counts)."""

    #: Requests sent: HTTP POSTs and WebSocket ``response.create`` messages, retries included.
    requests: int = 0
    #: Requests sent again after a failed request or a broken stream.
    retries: int = 0
    #: WebSocket follow-ups that sent ``previous_response_id`` and only the new items.
    incremental_requests: int = 0
    #: Tool calls the model made, run or refused (``tool_calls`` tallies those that ran).
    tool_calls_made: int = 0
    #: From the start of the turn to the first event of the model's response.
    time_to_first_event_ms: float | None = None
    tool_calls: Tally = msgspec.field(default_factory=Tally)
    api_calls: Tally = msgspec.field(default_factory=Tally)
    stream_events: Tally = msgspec.field(default_factory=Tally)
    websocket_calls: Tally = msgspec.field(default_factory=Tally)
    websocket_events: Tally = msgspec.field(default_factory=Tally)
    handshakes: Tally = msgspec.field(default_factory=Tally)
    preconnect_adopted: bool = False
    #: Request bodies as built, and as sent (smaller when compressed).
    body_bytes: int = 0
    sent_bytes: int = 0
    compressed_requests: int = 0
    compression_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    #: The server's own timing (``responsesapi.websocket_timing``, feature ``runtime_metrics``),
    #: summed over the turn's responses; named as the reference's runtime metrics summary.
    responses_api_overhead_ms: float = 0.0
    responses_api_inference_time_ms: float = 0.0
    responses_api_engine_iapi_ttft_ms: float = 0.0
    responses_api_engine_service_ttft_ms: float = 0.0
    responses_api_engine_iapi_tbt_ms: float = 0.0
    responses_api_engine_service_tbt_ms: float = 0.0

    @property
    def events_received(self) -> int:
        """Events of the model's stream, over HTTP and WebSocket together."""
        return self.stream_events.count + self.websocket_events.count

    def is_empty(self) -> bool:
        return self == RuntimeSummary()

    def merge(self, other: RuntimeSummary) -> None:
        """Add ``other`` into this one (e.g. a session total from its turns)."""
        for name in _TALLIES:
            getattr(self, name).merge(getattr(other, name))
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.preconnect_adopted = self.preconnect_adopted or other.preconnect_adopted
        self.body_bytes += other.body_bytes
        self.sent_bytes += other.sent_bytes
        self.compressed_requests += other.compressed_requests
        self.compression_ms += other.compression_ms
        if self.time_to_first_token_ms is None:
            self.time_to_first_token_ms = other.time_to_first_token_ms
        if self.time_to_first_event_ms is None:
            self.time_to_first_event_ms = other.time_to_first_event_ms
        for name in _SERVER_TIMING.values():
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add_server_timing(self, timing: ServerTiming) -> None:
        """Add the values of one ``responsesapi.websocket_timing`` event."""
        for name, value in timing.values().items():
            summary_field = _SERVER_TIMING[name]
            setattr(self, summary_field, getattr(self, summary_field) + value)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; durations in whole milliseconds. The plain counts are left out
        (``exec --json`` shows them in ``turn.completed``'s summary)."""
        result: dict[str, Any] = {name: getattr(self, name).to_json() for name in _TALLIES}
        result["handshake_ms"] = round(self.handshakes.duration_ms)
        result["preconnect_adopted"] = self.preconnect_adopted
        result["request_bytes"] = {
            "before_compression": self.body_bytes,
            "after_compression": self.sent_bytes,
            "compressed_requests": self.compressed_requests,
            "compression_ms": round(self.compression_ms, 3),
        }
        ttft = self.time_to_first_token_ms
        result["time_to_first_token_ms"] = None if ttft is None else round(ttft)
        for name in _SERVER_TIMING.values():
            result[name] = round(getattr(self, name))
        return result

    def render(self) -> str:
        """One line for people, leaving out what did not happen."""
        parts: list[str] = []
        if self.api_calls.count:
            parts.append(_tally("api call", self.api_calls))
        if self.stream_events.count:
            parts.append(_tally("stream event", self.stream_events))
        if self.websocket_calls.count:
            parts.append(_tally("websocket request", self.websocket_calls))
        if self.websocket_events.count:
            parts.append(_tally("websocket event", self.websocket_events))
        if self.handshakes.count or self.preconnect_adopted:
            adopted = ", preconnect adopted" if self.preconnect_adopted else ""
            parts.append(f"handshake {self.handshakes.duration_ms:.0f} ms{adopted}")
        if self.tool_calls.count:
            parts.append(_tally("tool call", self.tool_calls))
        if self.body_bytes:
            sent = f" → {_size(self.sent_bytes)} zstd" if self.compressed_requests else ""
            parts.append(f"sent {_size(self.body_bytes)}{sent}")
        if self.time_to_first_token_ms is not None:
            parts.append(f"first token {self.time_to_first_token_ms:.0f} ms")
        server = [
            f"{label} {getattr(self, name):.0f} ms"
            for label, name in _SERVER_LABELS
            if getattr(self, name)
        ]
        if server:
            parts.append("server " + ", ".join(server))
        return ", ".join(parts) if parts else "nothing recorded"

    def __str__(self) -> str:
        return self.render()


_TALLIES = ("tool_calls", "api_calls", "stream_events", "websocket_calls", "websocket_events")
_COUNTS = ("requests", "retries", "incremental_requests", "tool_calls_made")
# ServerTiming field -> the summary's field.
_SERVER_TIMING = {
    "overhead_ms": "responses_api_overhead_ms",
    "inference_ms": "responses_api_inference_time_ms",
    "engine_iapi_ttft_ms": "responses_api_engine_iapi_ttft_ms",
    "engine_service_ttft_ms": "responses_api_engine_service_ttft_ms",
    "engine_iapi_tbt_ms": "responses_api_engine_iapi_tbt_ms",
    "engine_service_tbt_ms": "responses_api_engine_service_tbt_ms",
}
_SERVER_LABELS = (
    ("inference", "responses_api_inference_time_ms"),
    ("overhead", "responses_api_overhead_ms"),
    ("ttft", "responses_api_engine_service_ttft_ms"),
    ("iapi ttft", "responses_api_engine_iapi_ttft_ms"),
    ("tbt", "responses_api_engine_service_tbt_ms"),
    ("iapi tbt", "responses_api_engine_iapi_tbt_ms"),
)


def _tally(noun: str, tally: Tally) -> str:
    plural = "" if tally.count == 1 else "s"
    return f"{tally.count} {noun}{plural} {tally.duration_ms:.0f} ms"


def _size(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB"
