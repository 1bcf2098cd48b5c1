"""WebSocket transport for the Responses API (``response.create`` over one connection).

A :class:`WebSocketConnection` carries one response at a time; its events are parsed by the same
parser as SSE, and error frames map to exactly the errors an HTTP status would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection
    from websockets.exceptions import ConnectionClosed

from codex_engine.errors import (
    CodexError,
    ConnectionFailedError,
    FallbackToHttpError,  # defined in the one tree, importable from here
    RequestTimeoutError,
    StreamError,
)
from codex_engine.protocol.error_mapping import classify_http_error, classify_websocket_error_frame
from codex_engine.protocol.event_tags import (
    PARSE_ERROR_KIND,
    UNKNOWN_KIND,
    event_succeeded,
)
from codex_engine.protocol.events import (
    Completed,
    ResponseEvent,
    StreamFailure,
    decode_stream_message,
)
from codex_engine.protocol.headers import TURN_STATE, USER_AGENT
from codex_engine.protocol.redaction import redact_text, request_secrets
from codex_engine.protocol.server_timing import TIMING_EVENT, ServerTiming
from codex_engine.transport.log_redaction import RedactingLogger, install_library_log_filter
from codex_engine.transport.observer import IGNORE, StreamObserver

__all__ = [
    "FallbackToHttpError",
    "WebSocketConnection",
    "connect_websocket",
]

log = logging.getLogger(__name__)


# The websockets library's own protocol log; each connection logs through a RedactingLogger
# that hides what it sends, and the filter hides credential headers by name.
wire_log = logging.getLogger("codex_engine.websocket.wire")
install_library_log_filter()

# Responses events can be large (a whole file in one delta); the server's own limit applies.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WebSocketConnection:
    """An open Responses WebSocket. Not safe for two responses at once (a lock enforces it)."""

    def __init__(self, ws: ClientConnection, idle_timeout: float) -> None:
        self._ws = ws
        self._idle_timeout = idle_timeout
        self._lock = asyncio.Lock()
        # How many requests this connection carried: a later one reuses it.
        self._sent = 0
        response = ws.response
        self.handshake_headers: Mapping[str, str] = (
            {k.lower(): v for k, v in response.headers.raw_items()} if response is not None else {}
        )

    @property
    def turn_state(self) -> str | None:
        """The sticky-routing token the server sent with the 101 answer, if any."""
        return self.handshake_headers.get(TURN_STATE)

    @property
    def is_closed(self) -> bool:
        return self._ws.close_code is not None or self._ws.state.name in {"CLOSING", "CLOSED"}

    async def stream(
        self, message: Mapping[str, Any], observer: StreamObserver = IGNORE
    ) -> AsyncIterator[ResponseEvent | Metadata]:
        """Send one ``response.create`` and yield its events until ``response.completed``.

        ``observer`` hears of the send, of every message received (also those skipped, and a
        close or timeout as a failed ``unknown`` one) and of the server's timing events.
        """
        async with self._lock:
            reused = self._sent > 0
            self._sent += 1
            started = time.monotonic()
            sent = False
            try:
                await self._send(message)
                sent = True
            finally:
                observer.request_sent(_ms_since(started), success=sent, connection_reused=reused)
            while True:
                waited = time.monotonic()
                try:
                    frame = await self._receive()
                except CodexError:
                    observer.event_received(UNKNOWN_KIND, _ms_since(waited), success=False)
                    raise
                elapsed = _ms_since(waited)
                try:
                    kind, event = decode_stream_message(frame)
                except ValueError:
                    observer.event_received(PARSE_ERROR_KIND, elapsed, success=False)
                    log.debug("skipping websocket frame that is not JSON (%d chars)", len(frame))
                    continue
                observer.event_received(kind, elapsed, success=event_succeeded(kind, event))
                # These rare frames are read beyond the event: the whole frame is decoded again
                # (a non-empty kind means it is a JSON object).
                if kind == "error":
                    error = classify_websocket_error_frame(json.loads(frame), raw=frame)
                    if error is not None:
                        raise error
                    continue
                if kind == "response.metadata":
                    metadata = Metadata.from_payload(json.loads(frame))
                    if metadata is not None:
                        yield metadata
                    continue
                if kind == TIMING_EVENT:
                    observer.server_timing(ServerTiming.from_payload(json.loads(frame)))
                    continue
                if event is None:
                    continue
                if isinstance(event, StreamFailure):
                    raise event.error
                yield event
                if isinstance(event, Completed):
                    return

    async def _send(self, message: Mapping[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await asyncio.wait_for(
                self._ws.send(json.dumps(message, separators=(",", ":"))), self._idle_timeout
            )
        except TimeoutError:
            raise RequestTimeoutError(
                "idle timeout sending the websocket request; check the network or raise "
                "stream_idle_timeout_ms"
            ) from None
        except ConnectionClosed as exc:
            raise StreamError(f"websocket closed before the request was sent ({exc})") from None

    async def _receive(self) -> str:
        """The next text message; an idle timeout, a close or a binary frame raise."""
        from websockets.exceptions import ConnectionClosed

        try:
            frame = await asyncio.wait_for(self._ws.recv(), self._idle_timeout)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no data from the server for {self._idle_timeout:g}s (idle timeout "
                "waiting for websocket); raise stream_idle_timeout_ms if the model "
                "needs longer"
            ) from None
        except ConnectionClosed as exc:
            raise StreamError(
                f"websocket closed by server before response.completed ({_close_text(exc)})"
            ) from None
        if isinstance(frame, bytes):
            raise StreamError("unexpected binary websocket event")
        return frame

    async def aclose(self) -> None:
        await self._ws.close()


class Metadata:
    """A ``response.metadata`` event; codex-engine reads the turn-state token from it."""

    __slots__ = ("turn_state",)

    def __init__(self, turn_state: str | None) -> None:
        self.turn_state = turn_state

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Metadata | None:
        metadata = payload.get("metadata")
        if not isinstance(metadata, Mapping):
            return None
        value = metadata.get(TURN_STATE) or metadata.get("turn_state")
        return cls(value) if isinstance(value, str) and value else None


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _close_text(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    if frame is None:
        return "no close frame"
    return f"code {frame.code}" + (f": {frame.reason}" if frame.reason else "")


async def connect_websocket(
    url: str,
    headers: Mapping[str, str],
    *,
    connect_timeout: float,
    idle_timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocketConnection:
    """Open the connection with ``headers`` (``protocol.headers.handshake_headers``); the
    handshake only, nothing is sent on it.

    A 426 answer raises :class:`FallbackToHttpError`; any other status maps like an HTTP error.
    """
    # Imported on first use: an HTTP-only session never pays for loading websockets.
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    handshake = dict(headers)
    secrets = request_secrets(handshake)
    user_agent = handshake.pop(USER_AGENT, None)  # the library writes it; hand it ours
    try:
        ws = await connect(
            url,
            additional_headers=handshake,
            user_agent_header=user_agent,
            open_timeout=connect_timeout,
            max_size=MAX_MESSAGE_BYTES,
            max_queue=64,
            ssl=(ssl_context or True) if url.startswith("wss://") else None,
            proxy=True,
            # Keepalive pings; the server answers pings from its side automatically.
            ping_interval=20,
            ping_timeout=20,
            logger=RedactingLogger(wire_log, secrets),
        )
    except InvalidStatus as exc:
        response = exc.response
        if response.status_code == 426:
            raise FallbackToHttpError(
                "the server asked for HTTP instead of WebSockets (426 Upgrade Required)"
            ) from None
        raw_headers = {k.lower(): v for k, v in response.headers.raw_items()}
        raise classify_http_error(
            response.status_code, raw_headers, bytes(response.body or b""), url=url
        ) from None
    except TimeoutError:
        raise FallbackToHttpError(
            f"the websocket handshake with {url} timed out after {connect_timeout:g}s "
            "(websocket_connect_timeout_ms)",
            timed_out=True,
        ) from None
    except InvalidURI as exc:
        raise ConnectionFailedError(f"invalid websocket URL {url}: {exc}") from None
    except (OSError, InvalidHandshake, ValueError) as exc:
        # A header the library refuses (a newline in a value) is quoted in its message.
        reason = redact_text(str(exc), secrets)
        raise ConnectionFailedError(
            f"could not open a websocket to {url} ({reason}); check that the server is running "
            "and supports WebSockets, or set supports_websockets = false"
        ) from None
    return WebSocketConnection(ws, idle_timeout)
