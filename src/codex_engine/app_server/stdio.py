"""Serve one app-server connection on this process's stdin and stdout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from codex_engine.app_server.connection import Connection
from codex_engine.app_server.server import AppServer, ServerOptions

__all__ = ["serve_stdio"]


async def serve_stdio(options: ServerOptions) -> int:
    """Serve until stdin ends or SIGTERM/SIGINT arrives; returns the exit code."""
    loop = asyncio.get_running_loop()
    # Protocol lines get a private copy of stdout; fd 1 then points at stderr so that a stray
    # print (ours or a library's) can never corrupt the JSON-RPC stream.
    protocol_fd = os.dup(sys.stdout.fileno())
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(sys.stdin.fileno(), "rb", 0)
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(protocol_fd, "wb", 0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    connection = Connection(reader, writer)
    server = AppServer(connection, options)
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, connection.stop)
    try:
        await connection.run(server)
    finally:
        await server.shutdown()
        await connection.close()
        transport.close()
    return 0
