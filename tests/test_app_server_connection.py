"""JSON-RPC framing and the connection's limits, over real OS pipes in one process."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from codex_engine.app_server.connection import Connection, Reply
from codex_engine.protocol.jsonrpc import (
    ErrorResponse,
    LineFramer,
    Notification,
    Request,
    Response,
    decode,
    encode,
)


def test_framer_splits_any_chunking_and_skips_overlong_lines() -> None:
    data = b'{"a":1}\n\n{"b":2}\r\n' + b"x" * 50 + b"\n" + b'{"c":3}'
    for size in (1, 2, 7, len(data)):
        framer = LineFramer(max_line_bytes=20)
        lines: list[bytes | None] = []
        for start in range(0, len(data), size):
            lines += framer.feed(data[start : start + size])
        lines += framer.at_eof()
        assert lines == [b'{"a":1}', b'{"b":2}', None, b'{"c":3}'], size


def test_decode_accepts_both_id_kinds_and_an_optional_jsonrpc_member() -> None:
    assert decode(b'{"id":1,"method":"m"}') == Request(1, "m")
    assert decode(b'{"jsonrpc":"2.0","id":"a","method":"m","params":{}}') == Request("a", "m", {})
    assert decode(b'{"method":"n"}') == Notification("n")
    assert decode(b'{"id":3,"result":{}}') == Response(3, {})
    assert decode(b'{"id":3,"error":{"code":-1,"message":"x"}}') == ErrorResponse(3, -1, "x")
    assert decode(b'{"id":true,"method":"m"}').code == -32600  # type: ignore[union-attr]
    broken = decode(b'{"method": "m", ')
    assert broken.code == -32700 and broken.id is None  # type: ignore[union-attr]
    salvaged = decode(b'{"id": 9, "method": "m", "params": [}')
    assert salvaged.code == -32700 and salvaged.id == 9  # type: ignore[union-attr]
    line = encode(Notification("x", {"a": 1}, 5))
    assert json.loads(line) == {"method": "x", "params": {"a": 1}, "emittedAtMs": 5}


class Blocking:
    """Holds `slow` requests until released; answers `fast` at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def handle_request(self, method: str, params: Any, reply: Reply) -> Any:
        if method == "slow":
            self.started.set()
            await self.release.wait()
        return {"method": method}

    async def handle_notification(self, method: str, params: Any) -> None:
        return None


class PipeEnds:
    def __init__(self, to_server: asyncio.StreamWriter, from_server: asyncio.StreamReader):
        self.to_server = to_server
        self.from_server = from_server

    async def send(self, message: dict[str, Any]) -> None:
        self.to_server.write(json.dumps(message).encode() + b"\n")
        await self.to_server.drain()

    async def receive(self) -> dict[str, Any]:
        return json.loads(await self.from_server.readline())  # type: ignore[no-any-return]


async def pipe_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0)
    )
    return reader


async def pipe_writer(fd: int) -> asyncio.StreamWriter:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(fd, "wb", 0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop)


@pytest.fixture
async def served() -> AsyncIterator[tuple[PipeEnds, Blocking, Connection]]:
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    connection = Connection(
        await pipe_reader(in_read), await pipe_writer(out_write), max_in_flight=1
    )
    dispatcher = Blocking()
    running = asyncio.create_task(connection.run(dispatcher))
    client_writer = await pipe_writer(in_write)
    ends = PipeEnds(client_writer, await pipe_reader(out_read))
    yield ends, dispatcher, connection
    client_writer.close()
    await running
    await connection.close()


async def test_requests_beyond_the_in_flight_limit_are_refused_as_overloaded(
    served: tuple[PipeEnds, Blocking, Connection],
) -> None:
    ends, dispatcher, _ = served
    await ends.send({"id": 1, "method": "slow"})
    await dispatcher.started.wait()
    await ends.send({"id": 2, "method": "fast"})
    refused = await ends.receive()
    assert refused["id"] == 2 and refused["error"]["code"] == -32001
    assert refused["error"]["data"] == {"codexErrorInfo": "server_overloaded"}
    dispatcher.release.set()
    assert await ends.receive() == {"id": 1, "result": {"method": "slow"}}
    await ends.send({"id": 3, "method": "fast"})
    assert await ends.receive() == {"id": 3, "result": {"method": "fast"}}


async def test_a_server_request_resolves_when_the_client_answers(
    served: tuple[PipeEnds, Blocking, Connection],
) -> None:
    ends, _, connection = served
    pending = asyncio.create_task(connection.request("item/tool/call", {"x": 1}))
    request = await ends.receive()
    assert request["method"] == "item/tool/call" and request["params"] == {"x": 1}
    await ends.send({"id": 12345, "result": "for nobody"})
    await ends.send({"id": request["id"], "result": {"ok": True}})
    assert await pending == {"ok": True}


class GatedSink:
    """An output whose every drain waits for ``release()``: the client has stopped reading."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.gate = asyncio.Event()
        self.draining: asyncio.Queue[None] = asyncio.Queue()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        self.draining.put_nowait(None)
        await self.gate.wait()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.data.splitlines()]


def delta(thread: str, item: str, text: str) -> dict[str, Any]:
    return {"threadId": thread, "turnId": "u", "itemId": item, "delta": text}


async def test_deltas_queued_behind_a_lagging_client_are_coalesced_per_item() -> None:
    in_read, in_write = os.pipe()
    sink = GatedSink()
    connection = Connection(await pipe_reader(in_read), sink)
    running = asyncio.create_task(connection.run(Blocking()))
    await connection.notify("turn/started", {"threadId": "a"})
    await sink.draining.get()  # the writer waits for the client to read the first message
    for text in ("Hel", "lo", " wor"):
        await connection.notify("item/agentMessage/delta", delta("a", "m1", text))
        await connection.notify("item/agentMessage/delta", delta("b", "m9", text.upper()))
    await connection.notify("item/agentMessage/delta", delta("a", "m1", "ld"))
    await connection.notify("item/completed", {"threadId": "a", "item": {"id": "m1"}})
    # Something of the thread came in between: this delta starts a new message.
    await connection.notify("item/agentMessage/delta", delta("a", "m1", "!"))
    await connection.notify("item/reasoning/textDelta", {**delta("b", "r", "x"), "contentIndex": 0})
    await connection.notify("item/reasoning/textDelta", {**delta("b", "r", "y"), "contentIndex": 1})
    sink.gate.set()
    await sink.draining.get()
    sink.gate.set()
    os.close(in_write)
    await running
    await connection.close()
    sent = [(m["method"], m["params"].get("delta")) for m in sink.lines()]
    assert sent == [
        ("turn/started", None),
        ("item/agentMessage/delta", "Hello world"),
        ("item/agentMessage/delta", "HELLO WOR"),
        ("item/completed", None),
        ("item/agentMessage/delta", "!"),
        # Another content part is another text: not joined.
        ("item/reasoning/textDelta", "x"),
        ("item/reasoning/textDelta", "y"),
    ]
    assert all("emittedAtMs" in m for m in sink.lines())


async def test_a_delta_the_writer_took_is_not_extended() -> None:
    in_read, in_write = os.pipe()
    sink = GatedSink()
    connection = Connection(await pipe_reader(in_read), sink)
    running = asyncio.create_task(connection.run(Blocking()))
    await connection.notify("turn/started", {"threadId": "a"})
    await sink.draining.get()
    await connection.notify("item/agentMessage/delta", delta("a", "m1", "one"))
    sink.gate.set()
    await sink.draining.get()  # "one" is written; the client still lags
    await connection.notify("item/agentMessage/delta", delta("a", "m1", "two"))
    await connection.notify("item/agentMessage/delta", delta("a", "m1", "three"))
    sink.gate.set()
    await sink.draining.get()
    sink.gate.set()
    os.close(in_write)
    await running
    await connection.close()
    assert [m["params"].get("delta") for m in sink.lines()] == [None, "one", "twothree"]


async def test_a_client_that_keeps_up_gets_every_delta() -> None:
    in_read, in_write = os.pipe()
    sink = GatedSink()
    sink.gate.set()
    connection = Connection(await pipe_reader(in_read), sink)
    running = asyncio.create_task(connection.run(Blocking()))
    for text in ("a", "b", "c"):
        await connection.notify("item/agentMessage/delta", delta("a", "m1", text))
    os.close(in_write)
    await running
    sink.gate.set()
    await connection.close()
    assert [m["params"]["delta"] for m in sink.lines()] == ["a", "b", "c"]
