"""The ``kind`` and ``success`` tags of each received stream event, as the event metrics carry
them (SPEC §8). Pure: the transports call these on what they received.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DEFAULT_SSE_KIND",
    "PARSE_ERROR_KIND",
    "UNKNOWN_KIND",
    "event_succeeded",
    "payload_kind",
]

#: A message with no ``type``, and what could not be received at all (a close, a binary frame,
#: a broken stream, an idle timeout).
UNKNOWN_KIND = "unknown"
#: A WebSocket text frame that is not JSON.
PARSE_ERROR_KIND = "parse_error"
#: An SSE event without an ``event:`` line has the event-stream default type.
DEFAULT_SSE_KIND = "message"

# The server reports a failure in these; `error` frames count even when the reference would
# skip one (no status), because the response did not go as asked.
_FAILURE_KINDS = frozenset({"response.failed", "error"})
# An event whose payload must parse into something; when it does not, the event failed.
_MUST_PARSE = frozenset({"response.output_item.done"})


def payload_kind(payload: Any) -> str:
    """The JSON ``type`` of a decoded message, else :data:`UNKNOWN_KIND`."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) and kind else UNKNOWN_KIND


def event_succeeded(kind: str, parsed: object | None) -> bool:
    """Whether a decoded event of ``kind`` counts as a success; ``parsed`` is what the event
    parser made of it (``None`` when it skipped it)."""
    if kind in _FAILURE_KINDS:
        return False
    return not (kind in _MUST_PARSE and parsed is None)
