"""One turn's metrics: :class:`TurnMetrics` forwards to :class:`~.metrics.Metrics` and fills the
turn's :class:`~.summary.RuntimeSummary`; :class:`TransportRecorder` is what a transport reports
its requests, events and the server's timing to while it streams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from codex_engine.telemetry.summary import RuntimeSummary

if TYPE_CHECKING:
    from codex_engine.protocol.events import TokenUsage
    from codex_engine.protocol.server_timing import ServerTiming
    from codex_engine.telemetry.metrics import Metrics

__all__ = ["TransportRecorder", "TurnMetrics"]


class TurnMetrics:
    """One turn's recorder: forwards to :class:`Metrics` and adds to :attr:`summary`.

    Made by :meth:`Metrics.for_turn` (also on a disabled ``Metrics``: the summary still fills
    in, it is what the CLI prints after a turn).
    """

    __slots__ = ("metrics", "summary")

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.summary = RuntimeSummary()

    def api_request(
        self, status: int | None, transport: str, duration_ms: float, *, error: bool = False
    ) -> None:
        self.summary.api_calls.add(duration_ms)
        self.metrics.api_request(status, transport, duration_ms, error=error)

    def stream_event(
        self, kind: str, transport: str, duration_ms: float, *, success: bool = True
    ) -> None:
        summary = self.summary
        (summary.websocket_events if transport == "websocket" else summary.stream_events).add(
            duration_ms
        )
        self.metrics.stream_event(kind, transport, duration_ms, success=success)

    def websocket_request(
        self, duration_ms: float, *, success: bool = True, connection_reused: bool = False
    ) -> None:
        self.summary.websocket_calls.add(duration_ms)
        self.metrics.websocket_request(
            duration_ms, success=success, connection_reused=connection_reused
        )

    def websocket_handshake(self, duration_ms: float, *, adopted_preconnect: bool) -> None:
        """A handshake this turn waited for; ``adopted_preconnect`` when it was the warmed one."""
        self.summary.handshakes.add(duration_ms)
        if adopted_preconnect:
            self.summary.preconnect_adopted = True

    def request_body(
        self, original_bytes: int, sent_bytes: int, *, compression_s: float | None = None
    ) -> None:
        """A request body as built and as sent; ``compression_s`` set when it was compressed."""
        summary = self.summary
        summary.body_bytes += original_bytes
        summary.sent_bytes += sent_bytes
        if compression_s is not None:
            summary.compressed_requests += 1
            summary.compression_ms += compression_s * 1000

    def first_token(self, ms_since_turn_start: float) -> None:
        """The first model output of the turn arrived; later calls are ignored."""
        if self.summary.time_to_first_token_ms is None:
            self.summary.time_to_first_token_ms = ms_since_turn_start

    def tool_call(self, tool: str, success: bool, duration_ms: float) -> None:
        self.summary.tool_calls.add(duration_ms)
        self.metrics.tool_call(tool, success, duration_ms)

    def server_timing(self, timing: ServerTiming) -> None:
        """The server's timing of one response, into the summary and the metrics."""
        self.summary.add_server_timing(timing)
        self.metrics.server_timing(timing)

    def observer(self, transport: Literal["http", "websocket"]) -> TransportRecorder:
        """What a transport reports to while it streams (``transport.observer.StreamObserver``)."""
        return TransportRecorder(self, transport)

    def fallback_to_http(self) -> None:
        self.metrics.fallback_to_http()

    def completed(self, e2e_ms: float, usage: TokenUsage | None) -> None:
        """The turn ended; time to first token comes from :meth:`first_token`."""
        self.metrics.turn_completed(e2e_ms, self.summary.time_to_first_token_ms, usage)


class TransportRecorder:
    """A :class:`TurnMetrics` seen from one transport (its events go to that transport's
    instruments); it implements ``transport.observer.StreamObserver``."""

    __slots__ = ("_transport", "_turn")

    def __init__(self, turn: TurnMetrics, transport: Literal["http", "websocket"]) -> None:
        self._turn = turn
        self._transport = transport

    def request_sent(self, duration_ms: float, *, success: bool, connection_reused: bool) -> None:
        self._turn.websocket_request(
            duration_ms, success=success, connection_reused=connection_reused
        )

    def event_received(self, kind: str, duration_ms: float, *, success: bool) -> None:
        self._turn.stream_event(kind, self._transport, duration_ms, success=success)

    def server_timing(self, timing: ServerTiming) -> None:
        self._turn.server_timing(timing)
