"""The loopback HTTP endpoint a browser sign-in redirects to: one GET route, nothing else.

HTTP parsing is h11's (already installed with httpx); a full web framework for one redirect
would cost an import of aiohttp on the app-server path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

import h11
import msgspec

__all__ = ["CallbackReply", "LoginCallbackServer"]

log = logging.getLogger(__name__)

# A browser sends its request at once; a connection that dawdles is not a browser redirect.
_READ_TIMEOUT_S = 10.0
_MAX_REQUEST_BYTES = 16 * 1024


class CallbackReply(msgspec.Struct, frozen=True):
    """What the browser tab shows: a status and a line of text."""

    status: int
    text: str


#: Called with the redirect's query parameters (first value of each name).
CallbackHandler = Callable[[Mapping[str, str]], Awaitable[CallbackReply]]


class LoginCallbackServer:
    """Listens on ``host:port`` and hands ``GET <path>?…`` to ``handler``.

    Any other path answers 404, other methods 405, and unparsable requests 400; every reply
    closes its connection. :meth:`aclose` stops listening and ends open connections.
    """

    def __init__(self, handler: CallbackHandler, path: str) -> None:
        self._handler = handler
        self._path = path
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @classmethod
    async def start(
        cls,
        handler: CallbackHandler,
        *,
        path: str = "/auth/callback",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> LoginCallbackServer:
        """Start listening; ``OSError`` if the port cannot be bound."""
        self = cls(handler, path)
        self._server = await asyncio.start_server(self._on_connection, host, port)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def aclose(self, *, grace_s: float = 1.0) -> None:
        """Stop listening; replies being written get ``grace_s`` to finish, then are cut."""
        if self._server is not None:
            self._server.close()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=grace_s)
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST_BYTES)
        try:
            reply = await self._serve(connection, reader)
            if reply is not None:
                writer.write(_encode(connection, reply))
                await writer.drain()
        except (ConnectionError, TimeoutError):
            pass  # the browser went away or never finished its request
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> CallbackReply | None:
        async with asyncio.timeout(_READ_TIMEOUT_S):
            while True:
                try:
                    event = connection.next_event()
                except h11.RemoteProtocolError:
                    return CallbackReply(400, "Bad request.")
                if event is h11.NEED_DATA:
                    connection.receive_data(await reader.read(4096))
                elif isinstance(event, h11.Request):
                    return await self._route(event)
                else:  # the peer closed before sending a request
                    return None

    async def _route(self, request: h11.Request) -> CallbackReply:
        target = urlsplit(request.target.decode("ascii", errors="replace"))
        if target.path != self._path:
            return CallbackReply(404, "Not found.")
        if request.method != b"GET":
            return CallbackReply(405, "Only GET is served here.")
        query: dict[str, str] = {}
        for name, value in parse_qsl(target.query, keep_blank_values=True):
            query.setdefault(name, value)
        return await self._handler(query)


def _encode(connection: h11.Connection, reply: CallbackReply) -> bytes:
    body = reply.text.encode()
    response = h11.Response(
        status_code=reply.status,
        headers=[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    parts = [connection.send(response), connection.send(h11.Data(data=body))]
    parts.append(connection.send(h11.EndOfMessage()))
    return b"".join(part for part in parts if part)
