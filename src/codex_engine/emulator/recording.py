"""What the emulator remembers of each request it saw, and waiting for the next one to arrive."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

__all__ = ["RecordedRequest", "Recorder", "RequestKind", "lower_headers"]

RequestKind = Literal["http", "ws_handshake", "ws_message", "models"]

#: How long `wait_for_request` waits by default: well below pytest's own timeout, so a request
#: that never comes fails with a message naming what was awaited.
DEFAULT_WAIT_SECONDS = 60.0


@dataclass
class RecordedRequest:
    """One request as the emulator saw it. Header names are lower-cased.

    `body` is the parsed JSON, or None when there was none or it did not parse. It is typed
    `Any` rather than `Any | None` so tests can index it without narrowing first. `error` is the
    `error` object of the 400 the emulator answered with when it refused the request.
    `events_sent` counts the SSE events or WebSocket messages streamed in answer.
    """

    kind: RequestKind
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    connection_id: int
    turn_state_sent: str | None = None
    compressed: bool = False
    raw_size: int | None = None
    decoded_size: int | None = None
    error: dict[str, Any] | None = None
    events_sent: int = 0


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        # Repeated headers are folded the way HTTP allows (RFC 9110 §5.3).
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class Recorder:
    """The requests seen so far, in arrival order, and the connection each came on."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._recorded = asyncio.Event()
        self._connections: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._connection_count = 0

    def record(self, request: RecordedRequest) -> RecordedRequest:
        self.requests.append(request)
        # Wake every waiter once, then re-arm for the next request.
        self._recorded.set()
        self._recorded = asyncio.Event()
        return request

    def new(self, request: web.Request, kind: RequestKind, body: Any = None) -> RecordedRequest:
        """A record of `request` (not yet stored: call `record`)."""
        return RecordedRequest(
            kind=kind,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=lower_headers(request.headers),
            body=body,
            connection_id=self._connection_id(request),
        )

    def of(self, kind: RequestKind | None) -> list[RecordedRequest]:
        return [r for r in self.requests if kind is None or r.kind == kind]

    async def wait_for(
        self,
        kind: RequestKind | None,
        count: int,
        # A deadline of its own is the point: a request that never comes fails with what was
        # awaited and what came instead, not with pytest's bare timeout.
        timeout: float | None,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """The `count`-th request of `kind`, once it arrives; TimeoutError naming it if not."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    matching = self.of(kind)
                    if len(matching) >= count:
                        return matching[count - 1]
                    await self._recorded.wait()
        except TimeoutError:
            seen = len(self.of(kind))
            what = f"{kind!r} requests" if kind is not None else "requests"
            raise TimeoutError(
                f"the emulator saw {seen} {what} in {timeout:g}s, the test waited for {count}; "
                f"recorded so far: {[r.kind for r in self.requests]}"
            ) from None

    def _connection_id(self, request: web.Request) -> int:
        transport = request.transport
        if transport is not None:
            with contextlib.suppress(TypeError):
                known = self._connections.get(transport)
                if known is not None:
                    return known
        self._connection_count += 1
        if transport is not None:
            with contextlib.suppress(TypeError):
                self._connections[transport] = self._connection_count
        return self._connection_count
