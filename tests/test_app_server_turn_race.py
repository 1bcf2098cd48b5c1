"""A ``turn/start`` that arrives after the running turn's model loop ended but before the turn
is finished (``turn/completed`` not sent yet): it starts the next turn instead of failing.

The app-server runs in this process on real OS pipes (a raw JSON-RPC client on the other ends,
every message validated against the reference schema), so the test can hold a turn's finish
open and send the request into exactly that window.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server import ServerOptions
from codex_engine.app_server.connection import Connection
from codex_engine.app_server.handlers import turns
from codex_engine.app_server.server import AppServer
from codex_engine.config.overrides import parse_overrides
from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.conftest import TEST_MODEL, cli_env
from tests.test_app_server import RawClient, start_thread, start_turn

Json = dict[str, Any]


async def _pipe_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0)
    )
    return reader


async def _pipe_writer(fd: int) -> asyncio.StreamWriter:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(fd, "wb", 0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop)


class InProcessServer:
    """What :class:`RawClient` needs of a process: the app-server served on two pipes."""

    def __init__(
        self, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader, served: asyncio.Task[None]
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = asyncio.StreamReader()
        self.stderr.feed_eof()
        self.returncode: int | None = None
        self._served = served

    @classmethod
    async def start(cls, home: Path, emulator: ResponsesEmulator) -> InProcessServer:
        to_server_read, to_server_write = os.pipe()
        from_server_read, from_server_write = os.pipe()
        output = await _pipe_writer(from_server_write)
        connection = Connection(await _pipe_reader(to_server_read), output)
        options = ServerOptions(
            overrides=parse_overrides(
                [
                    f"model={TEST_MODEL}",
                    "model_provider=emulator",
                    f"model_providers.emulator.base_url={emulator.base_url}",
                ]
            ),
            env=cli_env(home),
        )
        server = AppServer(connection, options)

        async def serve() -> None:
            try:
                await connection.run(server)
            finally:
                await server.shutdown()
                await connection.close()
                output.close()  # the client reads to the end of the output

        served = asyncio.create_task(serve())
        return cls(
            await _pipe_writer(to_server_write), await _pipe_reader(from_server_read), served
        )

    async def wait(self) -> int:
        await self._served
        self.returncode = 0
        return 0


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    raw = RawClient(await InProcessServer.start(codex_home, emulator))  # type: ignore[arg-type]
    await raw.initialize()
    try:
        yield raw
    finally:
        assert await raw.close() == 0
    assert raw.schema_errors() == []


@pytest.fixture
def workdir(tmp_path: Path) -> str:
    path = tmp_path / "work"
    path.mkdir()
    return str(path)


Finish = Callable[..., Awaitable[None]]


@pytest.fixture
def held_finish(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """Holds the first turn's finish (``turns._finish``) until ``release`` is set; ``held`` is
    set once it waits: the model loop has ended and the thread still shows the turn active."""
    held, release = asyncio.Event(), asyncio.Event()
    original: Finish = turns._finish

    async def finish(*args: Any) -> None:
        if not held.is_set():
            held.set()
            await release.wait()
        await original(*args)

    monkeypatch.setattr(turns, "_finish", finish)
    return held, release


def _text(value: str) -> list[Json]:
    return [{"type": "text", "text": value, "text_elements": []}]


async def test_turn_start_while_the_last_turn_finishes_starts_the_next_turn(
    client: RawClient,
    emulator: ResponsesEmulator,
    workdir: str,
    held_finish: tuple[asyncio.Event, asyncio.Event],
) -> None:
    held, release = held_finish
    thread_id = await start_thread(client, cwd=workdir)
    emulator.enqueue(Reply.text("first answer"), Reply.text("second answer"))
    first = await start_turn(client, thread_id, "one")
    await held.wait()
    answer = asyncio.ensure_future(
        client.call("turn/start", {"threadId": thread_id, "input": _text("two")})
    )
    # Requests are handled in the order they arrive, each until its first wait: once this one
    # is answered, the turn/start has met the unfinished turn (and, before the fix, failed).
    await client.result("thread/loaded/list", {})
    release.set()
    response = await answer
    assert "result" in response, response
    second = response["result"]["turn"]["id"]
    assert second != first and response["result"]["turn"]["status"] == "inProgress"
    assert (await client.turn_completed(first))["status"] == "completed"
    done = await client.turn_completed(second)
    assert done["status"] == "completed"
    assert [i["text"] for i in done["items"] if i["type"] == "agentMessage"] == ["second answer"]
    # The first turn was over (turn/completed) before the second one was announced.
    order = [
        (m["method"], m["params"]["turn"]["id"])
        for m in client.notifications
        if m["method"] in ("turn/started", "turn/completed")
    ]
    assert order == [
        ("turn/started", first),
        ("turn/completed", first),
        ("turn/started", second),
        ("turn/completed", second),
    ]
    second_request = emulator.requests_of("http")[1].body
    said = [
        part["text"]
        for item in second_request["input"]
        if item.get("role") == "user"
        for part in item["content"]
        if not part.get("text", "").startswith("<")
    ]
    assert said == ["one", "two"]


async def test_turn_start_while_a_goal_turn_finishes_joins_the_continuation_turn(
    client: RawClient,
    emulator: ResponsesEmulator,
    workdir: str,
    held_finish: tuple[asyncio.Event, asyncio.Event],
) -> None:
    held, release = held_finish
    thread_id = await start_thread(client, cwd=workdir)
    # The first goal turn leaves the goal active, so a continuation turn follows it at once;
    # that one completes the goal.
    emulator.enqueue(
        Reply.text("first step done"),
        Reply.function_call("update_goal", {"status": "complete"}),
        Reply.text("all done"),
    )
    await client.result("thread/goal/set", {"threadId": thread_id, "objective": "write hello"})
    await held.wait()
    (first,) = [
        m["params"]["turn"]["id"] for m in client.notifications if m["method"] == "turn/started"
    ]
    answer = asyncio.ensure_future(
        client.call("turn/start", {"threadId": thread_id, "input": _text("also say bye")})
    )
    await client.result("thread/loaded/list", {})
    release.set()
    response = await answer
    assert "result" in response, response
    joined = response["result"]["turn"]["id"]
    assert (await client.turn_completed(first))["status"] == "completed"
    started = [
        m["params"]["turn"]["id"] for m in client.notifications if m["method"] == "turn/started"
    ]
    # It joined the continuation turn that followed, as a turn/start joins any running turn.
    assert joined != first and joined == started[1]
    assert (await client.turn_completed(joined))["status"] == "completed"
    steered = [
        m["params"]["item"]
        for m in client.of_turn(joined)
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "userMessage"
    ]
    assert [item["content"] for item in steered] == [_text("also say bye")]
    later = emulator.requests_of("http")[1:]
    assert any("also say bye" in str(request.body["input"]) for request in later)
