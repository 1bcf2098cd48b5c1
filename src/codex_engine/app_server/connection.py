"""One JSON-RPC connection: reads lines, runs handlers, writes through one bounded outbound queue.

Back-pressure: every outgoing message (responses, notifications, server requests) goes through a
queue of ``outbound_capacity`` messages drained by a single writer task. When the client reads
too slowly and the queue is full, the coroutine sending the message waits for room: a turn's
notification pump stops pulling events until the client catches up, while the reader keeps
reading requests (it never waits on the queue itself). Waiting senders are served first come,
first served, so every thread's turn keeps its share of the pipe. Inbound, at most
``max_in_flight`` requests run at once; one more is answered at once with ``-32001``.

Delta coalescing: while the client lags (the writer waits for the pipe to drain), a text delta
(``item/agentMessage/delta`` and the like) whose previous delta for the same item is still queued,
with nothing of its thread queued after it, is appended to that one: a slow client gets the same
text in fewer, larger messages, and a client that keeps up gets every delta as it was made.

At end of input every request already read is still answered (server requests fail at once:
no answer can come any more). With ``finish_background_at_eof`` (input from a file, which is a
script rather than a client that hung up) the dispatcher's background work, such as running
turns, also ends before :meth:`Connection.run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from codex_engine.errors import ConnectionClosedError  # defined in the one tree, importable here
from codex_engine.protocol.jsonrpc import (
    INTERNAL_ERROR,
    OVERLOADED,
    DecodeFailure,
    ErrorResponse,
    JsonRpcError,
    LineFramer,
    Message,
    Notification,
    Request,
    RequestId,
    Response,
    decode,
    encode,
)

__all__ = [
    "Connection",
    "ConnectionClosedError",
    "Dispatcher",
    "LineSink",
    "LineSource",
    "Peer",
    "Reply",
]

log = logging.getLogger(__name__)

_READ_CHUNK = 64 * 1024
_WRITE_BATCH = 256

#: Notifications whose ``delta`` strings may be concatenated: consecutive ones for the same item
#: (and the same summary or content part) carry the same text as one with the joined delta.
COALESCED_DELTAS = frozenset(
    {
        "item/agentMessage/delta",
        "item/plan/delta",
        "item/reasoning/summaryTextDelta",
        "item/reasoning/textDelta",
        "item/commandExecution/outputDelta",
        "item/fileChange/outputDelta",
    }
)


class _QueuedDelta:
    """A delta notification waiting in the outbound queue; later deltas of its item join it
    until the writer takes it (``sealed``)."""

    __slots__ = ("emitted_at_ms", "key", "method", "params", "parts", "sealed")

    def __init__(
        self, method: str, params: dict[str, Any], key: tuple[Any, ...], emitted_at_ms: int
    ) -> None:
        self.method = method
        self.params = params
        self.key = key
        self.parts: list[str] = [params["delta"]]
        self.emitted_at_ms = emitted_at_ms
        self.sealed = False

    def message(self) -> Notification:
        self.sealed = True
        parts = self.parts
        params = self.params if len(parts) == 1 else {**self.params, "delta": "".join(parts)}
        return Notification(self.method, params, self.emitted_at_ms)


_Outgoing = Message | _QueuedDelta


class LineSource(Protocol):
    async def read(self, n: int = -1, /) -> bytes: ...


class LineSink(Protocol):
    def write(self, data: bytes, /) -> None: ...

    async def drain(self) -> None: ...


class Reply:
    """Answers one request exactly once; a handler may answer early and keep working."""

    def __init__(self, connection: Connection, request_id: RequestId) -> None:
        self._connection = connection
        self.request_id = request_id
        self.sent = False

    async def result(self, value: Any) -> None:
        if self.sent:
            return
        self.sent = True
        await self._connection.send(Response(self.request_id, value))

    async def error(self, code: int, message: str, data: Any = None) -> None:
        if self.sent:
            return
        self.sent = True
        await self._connection.send(ErrorResponse(self.request_id, code, message, data))


class Peer(Protocol):
    """What per-thread code may do with the client: notify it and ask it (no handler access)."""

    @property
    def closed(self) -> bool: ...

    @property
    def can_ask(self) -> bool:
        """Whether a server request can still get an answer (output open, input not ended)."""
        ...

    async def notify(self, method: str, params: Any) -> None: ...

    def next_request_id(self) -> int: ...

    async def request(self, method: str, params: Any, *, request_id: int | None = None) -> Any: ...


class Dispatcher(Protocol):
    async def handle_request(self, method: str, params: Any, reply: Reply) -> Any:
        """The result, unless ``reply`` was already used; raise JsonRpcError to fail."""
        ...

    async def handle_notification(self, method: str, params: Any) -> None: ...

    async def finish(self) -> None:
        """Wait for work requests started in the background (``finish_background_at_eof``)."""
        ...


class Connection:
    """Drives one client: call :meth:`run` until the client hangs up or :meth:`stop` is called."""

    def __init__(
        self,
        source: LineSource,
        sink: LineSink,
        *,
        max_in_flight: int = 256,
        outbound_capacity: int = 1024,
        max_line_bytes: int = 64 * 1024 * 1024,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        finish_background_at_eof: bool = False,
    ) -> None:
        self._source = source
        self._finish_background_at_eof = finish_background_at_eof
        #: Set at end of input: the client can no longer answer server requests.
        self.input_closed = False
        self._sink = sink
        self._dispatcher: Dispatcher | None = None
        self._max_in_flight = max_in_flight
        self._outbound: asyncio.Queue[_Outgoing | None] = asyncio.Queue(outbound_capacity)
        #: Per thread id: its last queued message, when that is a delta that may still grow.
        self._open_deltas: dict[str, _QueuedDelta] = {}
        #: The writer is waiting for the client to read (``drain`` has not returned).
        self._lagging = False
        self._framer = LineFramer(max_line_bytes=max_line_bytes)
        self._clock_ms = clock_ms
        self._in_flight: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._pending: dict[RequestId, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._stopping = asyncio.Event()
        self._writer_failed = asyncio.Event()
        self.closed = False
        #: Notification methods the client opted out of in ``initialize``.
        self.opt_out: frozenset[str] = frozenset()

    # -- sending -------------------------------------------------------------------------------

    async def send(self, message: _Outgoing) -> None:
        """Queue a message for the writer; waits while the outbound queue is full."""
        if self.closed:
            return
        if self._open_deltas and isinstance(message, Request | Notification):
            # Anything else of a thread queued after its delta ends that delta's growth.
            thread_id = _thread_of(message.params)
            if thread_id is not None:
                self._open_deltas.pop(thread_id, None)
        outbound = self._outbound
        if outbound.full():
            await outbound.put(message)
        else:
            # Same order as put() (which also skips the wait when there is room), minus a
            # coroutine per message on the hot path.
            outbound.put_nowait(message)

    async def notify(self, method: str, params: Any) -> None:
        if method in self.opt_out:
            return
        if self._lagging and method in COALESCED_DELTAS and isinstance(params, dict):
            thread_id = params.get("threadId")
            delta = params.get("delta")
            if isinstance(thread_id, str) and isinstance(delta, str):
                await self._send_delta(thread_id, method, params, delta)
                return
        await self.send(Notification(method, params, self._clock_ms()))

    async def _send_delta(
        self, thread_id: str, method: str, params: dict[str, Any], delta: str
    ) -> None:
        key = (
            method,
            params.get("turnId"),
            params.get("itemId"),
            params.get("summaryIndex"),
            params.get("contentIndex"),
        )
        open_deltas = self._open_deltas
        queued = open_deltas.get(thread_id)
        if queued is not None:
            if not queued.sealed and queued.key == key:
                queued.parts.append(delta)
                return
            del open_deltas[thread_id]
        queued = _QueuedDelta(method, params, key, self._clock_ms())
        if self._outbound.full():
            # Other messages of the thread may queue while this waits: it does not grow.
            await self.send(queued)
            return
        await self.send(queued)
        if not self.closed:
            open_deltas[thread_id] = queued

    def next_request_id(self) -> int:
        return next(self._ids)

    @property
    def can_ask(self) -> bool:
        return not self.closed and not self.input_closed

    async def request(self, method: str, params: Any, *, request_id: int | None = None) -> Any:
        """Send a server→client request and wait for the client's answer.

        Raises JsonRpcError when the client answers with an error and ConnectionClosedError when
        the connection ends first.
        """
        if self.closed:
            raise ConnectionClosedError(f"cannot send {method}: the client disconnected")
        if self.input_closed:
            raise ConnectionClosedError(
                f"cannot ask the client {method}: its input ended, so no answer can arrive"
            )
        rid = request_id if request_id is not None else self.next_request_id()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await self.send(Request(rid, method, params))
            return await future
        finally:
            self._pending.pop(rid, None)

    # -- running -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop reading; :meth:`run` returns after in-flight handlers are cancelled."""
        self._stopping.set()

    async def run(self, dispatcher: Dispatcher) -> None:
        """Serve until end of input (or :meth:`stop`); queued output is flushed by :meth:`close`."""
        self._dispatcher = dispatcher
        self._writer = asyncio.create_task(self._write_loop())
        reader = asyncio.create_task(self._read_loop())
        stopping = asyncio.create_task(self._stopping.wait())
        writer_failed = asyncio.create_task(self._writer_failed.wait())
        finishing: asyncio.Task[None] | None = None
        try:
            done, _ = await asyncio.wait(
                {reader, stopping, writer_failed}, return_when=asyncio.FIRST_COMPLETED
            )
            if reader in done and reader.exception() is None:
                self.input_closed = True
                self._fail_pending("the client's input ended before it answered")
                finishing = asyncio.create_task(self._finish())
                await asyncio.wait(
                    {finishing, stopping, writer_failed}, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            tasks = [reader, stopping, writer_failed, *([finishing] if finishing else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._fail_pending("the client disconnected")
            for task in list(self._in_flight):
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionClosedError(why))

    async def _finish(self) -> None:
        """Answer every request read, then (for a script) wait for the background work."""
        while self._in_flight or self._background:
            await asyncio.gather(*self._in_flight, *self._background, return_exceptions=True)
        if self._finish_background_at_eof:
            assert self._dispatcher is not None
            await self._dispatcher.finish()
            while self._background:
                await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self, *, flush_timeout: float = 2.0) -> None:
        """Write what is queued (for at most ``flush_timeout`` seconds), then stop writing."""
        writer = getattr(self, "_writer", None)
        if writer is not None and not writer.done():
            with contextlib.suppress(asyncio.QueueFull):
                self._outbound.put_nowait(None)
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(writer), flush_timeout)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        self.closed = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _write_loop(self) -> None:
        outbound = self._outbound
        try:
            while True:
                batch = [await outbound.get()]
                # Whatever queued up meanwhile goes out in the same write: under load (many
                # turns streaming at once) this saves a syscall and a drain per message.
                while not outbound.empty() and len(batch) < _WRITE_BATCH:
                    batch.append(outbound.get_nowait())
                stop = None in batch
                messages = batch[: batch.index(None)] if stop else batch
                if messages:
                    self._sink.write(b"".join(map(_encode, messages)))
                    # Set only while drain() is suspended: a drain that returns at once does
                    # not let any other task see it.
                    self._lagging = True
                    try:
                        await self._sink.drain()
                    finally:
                        self._lagging = False
                if stop:
                    return
        except (ConnectionError, OSError) as exc:
            log.warning("app-server output closed: %s", exc)
            self.closed = True
            self._writer_failed.set()

    async def _read_loop(self) -> None:
        while True:
            data = await self._source.read(_READ_CHUNK)
            lines = self._framer.feed(data) if data else self._framer.at_eof()
            for line in lines:
                self._on_line(line)
            if not data:
                return

    def _on_line(self, line: bytes | None) -> None:
        if line is None:
            log.warning("dropped an input line longer than the limit; it had no readable id")
            return
        message = decode(line)
        if isinstance(message, DecodeFailure):
            if message.id is None:
                # The schema has no null id, so an error nobody can match is only logged.
                log.warning("dropped malformed input: %s", message.message)
            else:
                self._spawn(self.send(ErrorResponse(message.id, message.code, message.message)))
        elif isinstance(message, Request):
            if len(self._in_flight) >= self._max_in_flight:
                self._spawn(
                    self.send(
                        ErrorResponse(
                            message.id,
                            OVERLOADED,
                            f"server overloaded: {len(self._in_flight)} requests are already "
                            "running on this connection; retry later",
                            {"codexErrorInfo": "server_overloaded"},
                        )
                    )
                )
                return
            task = asyncio.create_task(self._handle(message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        elif isinstance(message, Notification):
            assert self._dispatcher is not None
            self._spawn(self._dispatcher.handle_notification(message.method, message.params))
        else:
            future = self._pending.get(message.id)
            if future is None or future.done():
                log.warning("ignored a response to unknown request id %r", message.id)
            elif isinstance(message, Response):
                future.set_result(message.result)
            else:
                future.set_exception(JsonRpcError(message.code, message.message, message.data))

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _handle(self, request: Request) -> None:
        assert self._dispatcher is not None
        reply = Reply(self, request.id)
        try:
            result = await self._dispatcher.handle_request(request.method, request.params, reply)
        except JsonRpcError as exc:
            if reply.sent:
                log.warning("%s failed after it was answered: %s", request.method, exc)
            else:
                await reply.error(exc.code, str(exc), exc.data)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s failed", request.method)
            await reply.error(INTERNAL_ERROR, f"internal error in {request.method}: {exc}")
            return
        await reply.result(result if result is not None else {})


def _thread_of(params: Any) -> str | None:
    thread_id = params.get("threadId") if isinstance(params, dict) else None
    return thread_id if isinstance(thread_id, str) else None


def _encode(message: _Outgoing | None) -> bytes:
    if isinstance(message, _QueuedDelta):
        return encode(message.message())
    assert message is not None
    return encode(message)
