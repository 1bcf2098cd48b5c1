"""Proxy environment variables route HTTP and WebSocket traffic alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.events import OutputTextDelta
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext
from tests.conftest import make_client


class ForwardProxy:
    """A small HTTP proxy: CONNECT tunnels and absolute-form forwarding, recording each use."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, _, rest = head.partition(b"\r\n")
            method, target, version = line.decode().split(" ", 2)
            self.seen.append(f"{method} {target}")
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                parts = urlsplit(target)
                up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                up_writer.write(f"{method} {path} {version}\r\n".encode() + rest)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardProxy]:
    async with ForwardProxy() as running:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("HTTP_PROXY", running.url)
        yield running


@pytest.mark.parametrize("websockets", [False, True], ids=["http", "websocket"])
async def test_requests_go_through_the_configured_proxy(
    emulator: ResponsesEmulator, proxy: ForwardProxy, websockets: bool
) -> None:
    prompt = Prompt(input=[user_message("via proxy")], base_instructions="x")
    ctx = RequestContext(model="gpt-5.1-codex", thread_id="t")
    async with make_client(
        emulator.base_url,
        supports_websockets=websockets,
        enable_websockets=websockets,
        enable_preconnect=False,
    ) as client:
        events = [e async for e in client.new_session().stream(prompt, ctx)]
    assert "via proxy" in "".join(e.delta for e in events if isinstance(e, OutputTextDelta))
    port = emulator.base_url.split(":")[2].split("/")[0]
    assert proxy.seen, "the proxy saw no traffic"
    assert all(f"127.0.0.1:{port}" in seen for seen in proxy.seen)
