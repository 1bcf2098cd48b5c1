"""Serve one app-server connection on this process's stdin and stdout.

Pipes and sockets go through asyncio's transports. Anything else (a regular file, ``/dev/null``,
a terminal) cannot be watched by the event loop: input is read on a daemon thread and output is
written directly. Input from a file is a script: every request in it is answered and running
turns end before the server exits at end of input.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import signal
import stat
import sys
import threading

from codex_engine.app_server.connection import Connection, LineSink, LineSource
from codex_engine.app_server.server import AppServer, ServerOptions

__all__ = ["ThreadedSource", "WriteThroughSink", "serve_stdio"]

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


def _is_stream(fd: int) -> bool:
    """A pipe or a socket: what the event loop can watch (a regular file or /dev/null is not)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class ThreadedSource:
    """Reads a descriptor on a daemon thread, a few chunks ahead of the connection."""

    def __init__(self, fd: int, *, ahead: int = 4) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue(ahead)
        # A daemon thread: a read blocked on a terminal must not keep the process alive.
        self._thread = threading.Thread(target=self._run, name="app-server-input", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self._fd, _CHUNK)
            except OSError as exc:
                log.warning("app-server input failed: %s; treating it as its end", exc)
                data = b""
            try:
                asyncio.run_coroutine_threadsafe(self._chunks.put(data), self._loop).result()
            except (RuntimeError, asyncio.CancelledError, concurrent.futures.CancelledError):
                return  # the loop is gone
            if not data:
                return

    async def read(self, n: int = -1, /) -> bytes:
        return await self._chunks.get()


class WriteThroughSink:
    """Writes straight to a descriptor the event loop cannot watch (a file, /dev/null)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, data: bytes, /) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    async def drain(self) -> None:
        return None


async def serve_stdio(options: ServerOptions) -> int:
    """Serve until stdin ends or SIGTERM/SIGINT arrives; returns the exit code."""
    loop = asyncio.get_running_loop()
    # Protocol lines get a private copy of stdout; fd 1 then points at stderr so that a stray
    # print (ours or a library's) can never corrupt the JSON-RPC stream.
    protocol_fd = os.dup(sys.stdout.fileno())
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stdin_fd = sys.stdin.fileno()
    transports: list[asyncio.BaseTransport] = []
    source: LineSource
    sink: LineSink
    input_is_stream = _is_stream(stdin_fd)
    if input_is_stream:
        reader = asyncio.StreamReader()
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(stdin_fd, "rb", 0)
        )
        transports.append(read_transport)
        source = reader
    else:
        source = ThreadedSource(stdin_fd)
    if _is_stream(protocol_fd):
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(protocol_fd, "wb", 0)
        )
        transports.append(write_transport)
        sink = asyncio.StreamWriter(write_transport, protocol, None, loop)
    else:
        sink = WriteThroughSink(protocol_fd)
    # Input from a pipe ends when the client hangs up; input from a file ends its script.
    connection = Connection(source, sink, finish_background_at_eof=not input_is_stream)
    server = AppServer(connection, options)
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, connection.stop)
    try:
        await connection.run(server)
    finally:
        await server.shutdown()
        await connection.close()
        for transport in transports:
            transport.close()
    return 0
