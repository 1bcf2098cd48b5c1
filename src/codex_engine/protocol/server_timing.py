"""The server's own timing of a response: ``responsesapi.websocket_timing`` events, which the
server sends on a WebSocket whose handshake carried ``x-responsesapi-include-timing-metrics:
true`` (feature ``runtime_metrics``, SPEC §8). Pure parsing, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["TIMING_EVENT", "WIRE_FIELDS", "ServerTiming"]

TIMING_EVENT = "responsesapi.websocket_timing"

#: Our field -> the key in the event's ``timing_metrics`` object.
WIRE_FIELDS: dict[str, str] = {
    "overhead_ms": "responses_duration_excl_engine_and_client_tool_time_ms",
    "inference_ms": "engine_service_total_ms",
    "engine_iapi_ttft_ms": "engine_iapi_ttft_total_ms",
    "engine_service_ttft_ms": "engine_service_ttft_total_ms",
    "engine_iapi_tbt_ms": "engine_iapi_tbt_across_engine_calls_ms",
    "engine_service_tbt_ms": "engine_service_tbt_across_engine_calls_ms",
}


class ServerTiming(msgspec.Struct, frozen=True):
    """Milliseconds the server reported for one response; ``None`` where it sent no usable
    value (missing, not a number, negative or not finite)."""

    #: Time in the Responses API itself, outside the engine and the client's tools.
    overhead_ms: float | None = None
    #: Total inference time in the engine service.
    inference_ms: float | None = None
    engine_iapi_ttft_ms: float | None = None
    engine_service_ttft_ms: float | None = None
    engine_iapi_tbt_ms: float | None = None
    engine_service_tbt_ms: float | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ServerTiming:
        metrics = payload.get("timing_metrics")
        if not isinstance(metrics, Mapping):
            return cls()
        return cls(**{name: _millis(metrics.get(wire)) for name, wire in WIRE_FIELDS.items()})

    def values(self) -> dict[str, float]:
        """The fields that carry a value, by name."""
        result: dict[str, float] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        return result


def _millis(value: object) -> float | None:
    # JSON numbers only; like the reference, whole milliseconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        return None
    return float(round(number))
