"""What a transport reports while it streams a response, for metrics: each request sent, each
event received (tagged by ``protocol.event_tags``) and the server's timing events. Telemetry
implements :class:`StreamObserver`; the transports do not know about metrics.
"""

from __future__ import annotations

from typing import Protocol

from codex_engine.protocol.server_timing import ServerTiming

__all__ = ["IGNORE", "StreamObserver"]


class StreamObserver(Protocol):
    def request_sent(self, duration_ms: float, *, success: bool, connection_reused: bool) -> None:
        """A ``response.create`` went out on a WebSocket (or failed to) after ``duration_ms``."""

    def event_received(self, kind: str, duration_ms: float, *, success: bool) -> None:
        """One event or message arrived after waiting ``duration_ms`` (or could not be read)."""

    def server_timing(self, timing: ServerTiming) -> None:
        """The server reported how long it took (``responsesapi.websocket_timing``)."""


class _Ignore:
    def request_sent(self, duration_ms: float, *, success: bool, connection_reused: bool) -> None:
        pass

    def event_received(self, kind: str, duration_ms: float, *, success: bool) -> None:
        pass

    def server_timing(self, timing: ServerTiming) -> None:
        pass


#: The observer of a stream nobody measures.
IGNORE: StreamObserver = _Ignore()
