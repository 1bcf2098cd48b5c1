"""What the runtime measures: every instrument's wire name, kind, unit and tags, as the reference
names them (SPEC §8), and the histogram series values are aggregated into.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Literal

import msgspec

__all__ = [
    "INSTRUMENTS",
    "SERVER_TIMING",
    "SERVICE_NAME",
    "HistogramSeries",
    "InstrumentSpec",
]

SERVICE_NAME = "codex-engine"

# Buckets of the OTel SDK's default histogram, which suit millisecond timings.
_MS_BOUNDS = (0.0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
_TOKEN_BOUNDS = (0.0, 100, 500, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000)


class InstrumentSpec(msgspec.Struct, frozen=True):
    """One metric: its wire name, kind, unit and the attribute keys of its series."""

    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str
    tags: tuple[str, ...] = ()
    bounds: tuple[float, ...] = _MS_BOUNDS


def _counter(name: str, unit: str, description: str, *tags: str) -> InstrumentSpec:
    return InstrumentSpec(name, "counter", unit, description, tags)


def _hist(
    name: str, description: str, *tags: str, unit: str = "ms", bounds: tuple[float, ...] = ()
) -> InstrumentSpec:
    return InstrumentSpec(name, "histogram", unit, description, tags, bounds or _MS_BOUNDS)


API_REQUEST = _counter(
    "codex.api_request",
    "{request}",
    "HTTP requests to the model API",
    "status",
    "transport",
    "success",
)
API_REQUEST_MS = _hist(
    "codex.api_request.duration_ms",
    "Time until the API answered with headers",
    "status",
    "transport",
    "success",
)
SSE_EVENT = _counter("codex.sse_event", "{event}", "SSE events received", "kind", "success")
SSE_EVENT_MS = _hist("codex.sse_event.duration_ms", "Wait for each SSE event", "kind", "success")
WS_REQUEST = _counter(
    "codex.websocket.request",
    "{request}",
    "response.create messages sent",
    "success",
    "connection_reused",
)
WS_REQUEST_MS = _hist(
    "codex.websocket.request.duration_ms",
    "Time to send a response.create",
    "success",
    "connection_reused",
)
WS_EVENT = _counter(
    "codex.websocket.event", "{event}", "WebSocket messages received", "kind", "success"
)
WS_EVENT_MS = _hist(
    "codex.websocket.event.duration_ms", "Wait for each WebSocket message", "kind", "success"
)
FALLBACK = _counter(
    "codex.transport.fallback_to_http",
    "{fallback}",
    "Sessions that fell back to HTTP",
    "from_wire_api",
)
TURN_E2E_MS = _hist("codex.turn.e2e_duration_ms", "Turn duration, submission to completion")
TURN_TTFT_MS = _hist("codex.turn.ttft.duration_ms", "Turn start to the first model output")
TURN_TOKENS = _hist(
    "codex.turn.token_usage",
    "Tokens used by one turn",
    "token_type",
    unit="{token}",
    bounds=_TOKEN_BOUNDS,
)
TOOL_CALL = _counter("codex.tool.call", "{call}", "Tool calls run", "tool", "success")
TOOL_CALL_MS = _hist("codex.tool.call.duration_ms", "Tool call duration", "tool", "success")
PREWARM_MS = _hist(
    "codex.startup_prewarm.duration_ms", "Startup WebSocket preconnect duration", "success"
)
PREWARM_AGE_MS = _hist(
    "codex.startup_prewarm.age_at_first_turn_ms",
    "Age of the startup preconnect when the first turn used it",
)
# The server's timing of each response (feature `runtime_metrics`), named after the reference's.
SERVER_OVERHEAD_MS = _hist(
    "codex.responses_api_overhead.duration_ms",
    "Server time in the Responses API outside the engine and the client's tools",
)
SERVER_INFERENCE_MS = _hist(
    "codex.responses_api_inference_time.duration_ms", "Server inference time in the engine"
)
SERVER_IAPI_TTFT_MS = _hist(
    "codex.responses_api_engine_iapi_ttft.duration_ms", "Engine time to first token (iapi)"
)
SERVER_SERVICE_TTFT_MS = _hist(
    "codex.responses_api_engine_service_ttft.duration_ms", "Engine time to first token (service)"
)
SERVER_IAPI_TBT_MS = _hist(
    "codex.responses_api_engine_iapi_tbt.duration_ms",
    "Engine time between tokens across engine calls (iapi)",
)
SERVER_SERVICE_TBT_MS = _hist(
    "codex.responses_api_engine_service_tbt.duration_ms",
    "Engine time between tokens across engine calls (service)",
)
#: The histogram of each ``protocol.server_timing.ServerTiming`` field.
SERVER_TIMING: dict[str, InstrumentSpec] = {
    "overhead_ms": SERVER_OVERHEAD_MS,
    "inference_ms": SERVER_INFERENCE_MS,
    "engine_iapi_ttft_ms": SERVER_IAPI_TTFT_MS,
    "engine_service_ttft_ms": SERVER_SERVICE_TTFT_MS,
    "engine_iapi_tbt_ms": SERVER_IAPI_TBT_MS,
    "engine_service_tbt_ms": SERVER_SERVICE_TBT_MS,
}

#: Every instrument, by name.
INSTRUMENTS: dict[str, InstrumentSpec] = {
    spec.name: spec
    for spec in (
        API_REQUEST,
        API_REQUEST_MS,
        SSE_EVENT,
        SSE_EVENT_MS,
        WS_REQUEST,
        WS_REQUEST_MS,
        WS_EVENT,
        WS_EVENT_MS,
        FALLBACK,
        TURN_E2E_MS,
        TURN_TTFT_MS,
        TURN_TOKENS,
        TOOL_CALL,
        TOOL_CALL_MS,
        PREWARM_MS,
        PREWARM_AGE_MS,
        *SERVER_TIMING.values(),
    )
}


class HistogramSeries:
    """One histogram series: count, sum, min, max and explicit-bucket counts."""

    __slots__ = ("buckets", "count", "max", "min", "sum")

    def __init__(self, n_buckets: int) -> None:
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.buckets = [0] * n_buckets

    def observe(self, bounds: tuple[float, ...], value: float) -> None:
        self.count += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.buckets[bisect_left(bounds, value)] += 1
