"""``runtimeSummary``: codex-engine's extension of ``turn/completed`` (what the turn spent).

Not in the reference protocol; clients that do not know it ignore it. Its keys are snake_case,
as codex-engine has always sent them.
"""

import msgspec

__all__ = ["RequestBytesWire", "RuntimeSummaryWire", "RuntimeTallyWire"]


class _Snake(msgspec.Struct, frozen=True, kw_only=True):
    """Snake_case keys on the wire."""


class RuntimeTallyWire(_Snake, frozen=True, kw_only=True):
    count: int
    duration_ms: int


class RequestBytesWire(_Snake, frozen=True, kw_only=True):
    before_compression: int
    after_compression: int
    compressed_requests: int
    compression_ms: float


class RuntimeSummaryWire(_Snake, frozen=True, kw_only=True):
    """What one turn spent: model API calls, stream and WebSocket events, bytes, time to first
    token (codex-engine extension)."""

    tool_calls: RuntimeTallyWire
    api_calls: RuntimeTallyWire
    stream_events: RuntimeTallyWire
    websocket_calls: RuntimeTallyWire
    websocket_events: RuntimeTallyWire
    handshake_ms: int
    preconnect_adopted: bool
    request_bytes: RequestBytesWire
    time_to_first_token_ms: int | None
