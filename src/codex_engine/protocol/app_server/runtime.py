"""``runtimeSummary``: codex-engine's extension of ``turn/completed`` (what the turn spent).

Not in the reference protocol; clients that do not know it ignore it. Its keys are snake_case,
as codex-engine has always sent them.
"""

from pydantic import BaseModel, ConfigDict

__all__ = ["RequestBytesWire", "RuntimeSummaryWire", "RuntimeTallyWire"]


class _Snake(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class RuntimeTallyWire(_Snake):
    count: int
    duration_ms: int


class RequestBytesWire(_Snake):
    before_compression: int
    after_compression: int
    compressed_requests: int
    compression_ms: float


class RuntimeSummaryWire(_Snake):
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
