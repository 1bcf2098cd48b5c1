"""``codex-engine app-server`` as a subprocess on real stdio pipes, driven by a raw JSON-RPC client.

Every line the server writes is checked against the reference app-server JSON schema (skipped on
a developer machine without the shared reference directory; in CI its absence fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.app_server.catalog import CLIENT_REQUESTS
from tests import canaries
from tests.conftest import TEST_MODEL, cli_env, reference_path, require_reference

SCHEMA = "app-server-schema"

Json = dict[str, Any]


# -- schema ----------------------------------------------------------------------------------


class SchemaChecker:
    """Validates server→client messages with the reference schema files."""

    def __init__(self, directory: Path) -> None:
        from jsonschema import Draft7Validator

        def load(name: str) -> Json:
            return json.loads((directory / name).read_text())

        self._root = load("codex_app_server_protocol.schemas.json")
        self._notification = Draft7Validator(load("ServerNotification.json"))
        self._server_request = Draft7Validator(load("ServerRequest.json"))
        self._error = Draft7Validator(load("JSONRPCError.json"))
        # Each served method's response type, by the reference's name (our catalog uses them).
        self._response_names: dict[str, str] = {
            name: shape.result.name for name, shape in CLIENT_REQUESTS.items()
        }
        self._validator_cls = Draft7Validator

    def _response(self, method: str) -> Any:
        name = self._response_names[method]
        defs = self._root["definitions"]
        pointer = f"#/definitions/{name}" if name in defs else f"#/definitions/v2/{name}"
        return self._validator_cls({**self._root, "$ref": pointer})

    def errors(self, message: Json, method_of: Callable[[Any], str | None]) -> list[str]:
        if "method" in message and "id" in message:
            validator = self._server_request
        elif "method" in message:
            validator = self._notification
        elif "error" in message:
            validator = self._error
        else:
            method = method_of(message.get("id"))
            if method is None:
                return [f"response to an id the client never sent: {message}"]
            validator = self._response(method)
            message = message["result"]
        return [f"{e.json_path}: {e.message[:300]}" for e in validator.iter_errors(message)]


def schema_checker() -> SchemaChecker | None:
    """None on a developer machine without the reference; in CI its absence fails the test."""
    directory = reference_path(SCHEMA)
    return _checker(directory) if directory is not None else None


@cache
def _checker(directory: Path) -> SchemaChecker:
    return SchemaChecker(directory)


# -- client ----------------------------------------------------------------------------------

#: How long a server that closed its stdout gets to finish writing stderr and exit.
STDERR_GRACE_S = 5.0


class ServerGone(AssertionError):
    """The app-server's output ended while the test still expected answers."""


class RawClient:
    """Speaks JSON lines to the app-server and keeps every message it received."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[Json] = []
        self.notifications: list[Json] = []
        self.server_requests: asyncio.Queue[Json] = asyncio.Queue()
        self.sent_methods: dict[Any, str] = {}
        self._responses: dict[Any, asyncio.Future[Json]] = {}
        self._changed = asyncio.Condition()
        self._next_id = 0
        self.stderr = bytearray()
        self._reader = asyncio.create_task(self._read())
        self._stderr_reader = asyncio.create_task(self._read_stderr())

    @classmethod
    async def start(
        cls,
        home: Path,
        cwd: Path,
        emulator: ResponsesEmulator,
        *extra: str,
        server_args: tuple[str, ...] = (),
        model: str | None = TEST_MODEL,
    ) -> RawClient:
        """The app-server over stdio, pointed at ``emulator`` with ``model`` selected (``None``:
        the configured or default one)."""
        selected = ["-c", f"model={model}"] if model is not None else []
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_engine",
            *selected,
            "-c",
            "model_provider=emulator",
            "-c",
            f"model_providers.emulator.base_url={emulator.base_url}",
            *extra,
            "app-server",
            "--listen",
            "stdio://",
            *server_args,
            cwd=cwd,
            env=cli_env(home),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            async for line in self.process.stdout:
                message = json.loads(line)
                assert isinstance(message, dict), line
                self.received.append(message)
                if "method" in message and "id" in message:
                    self.server_requests.put_nowait(message)
                elif "method" in message:
                    self.notifications.append(message)
                else:
                    future = self._responses.pop(message.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                async with self._changed:
                    self._changed.notify_all()
        finally:
            # The output ended (or could not be read): nothing will answer what is pending.
            pending = [f for f in self._responses.values() if not f.done()]
            self._responses.clear()
            if pending:
                gone = await self._gone()
                for future in pending:
                    future.set_exception(gone)
            async with self._changed:
                self._changed.notify_all()

    async def _gone(self) -> ServerGone:
        """Why no answer will come: the exit code and everything the server wrote to stderr."""
        # A server that closed its output is exiting; its stderr closes with it.
        await asyncio.wait([self._stderr_reader], timeout=STDERR_GRACE_S)
        code = self.process.returncode
        if code is None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self.process.wait(), STDERR_GRACE_S)
        stderr = self.stderr.decode(errors="replace").strip() or "(nothing)"
        return ServerGone(f"the app-server closed its output (exit code {code}); stderr:\n{stderr}")

    async def _read_stderr(self) -> None:
        # Drained all along so a chatty server never blocks on a full pipe.
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr += chunk

    async def send_line(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line)
        await self.process.stdin.drain()

    async def send(self, message: Json) -> None:
        await self.send_line(json.dumps(message).encode() + b"\n")

    async def call(
        self, method: str, params: Any = None, *, request_id: Any = None, **extra: Any
    ) -> Json:
        """Send a request and return the whole response message (result or error)."""
        if request_id is None:
            self._next_id += 1
            request_id = self._next_id
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._responses[request_id] = future
        self.sent_methods[request_id] = method
        message: Json = {**extra, "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        if self._reader.done():
            # Already gone: fail now rather than wait for an answer that cannot come.
            raise await self._gone()
        try:
            await self.send(message)
        except (BrokenPipeError, ConnectionResetError):
            self._responses.pop(request_id, None)
            raise await self._gone() from None
        return await future

    def expect(self, request_id: Any, method: str, future: asyncio.Future[Json]) -> None:
        self._responses[request_id] = future
        self.sent_methods[request_id] = method

    async def result(self, method: str, params: Any = None) -> Json:
        response = await self.call(method, params)
        assert "result" in response, response
        result: Json = response["result"]
        return result

    async def error(self, method: str, params: Any = None, **kwargs: Any) -> Json:
        response = await self.call(method, params, **kwargs)
        assert "error" in response, response
        error: Json = response["error"]
        return error

    async def initialize(self) -> Json:
        result = await self.result(
            "initialize", {"clientInfo": {"name": "raw_test_client", "version": "1.0"}}
        )
        await self.send({"method": "initialized"})
        return result

    async def wait_for(self, predicate: Callable[[Json], bool]) -> Json:
        """The first notification (already received or coming) that satisfies ``predicate``."""
        async with self._changed:
            while True:
                for message in self.notifications:
                    if predicate(message):
                        return message
                if self._reader.done():
                    raise await self._gone()
                await self._changed.wait()

    async def turn_completed(self, turn_id: str) -> Json:
        message = await self.wait_for(
            lambda m: m["method"] == "turn/completed" and m["params"]["turn"]["id"] == turn_id
        )
        return message["params"]["turn"]  # type: ignore[no-any-return]

    def of_turn(self, turn_id: str) -> list[Json]:
        return [
            m
            for m in self.notifications
            if m.get("params", {}).get("turnId") == turn_id
            or m.get("params", {}).get("turn", {}).get("id") == turn_id
        ]

    async def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = await self.process.wait()
        await self._reader
        await self._stderr_reader
        canaries.watch("app-server stderr", self.stderr.decode("utf-8", "replace"))
        return code

    def schema_errors(self) -> list[str]:
        checker = schema_checker()
        if checker is None:
            return []
        problems: list[str] = []
        for message in self.received:
            for problem in checker.errors(message, self.sent_methods.get):
                problems.append(f"{message.get('method', message.get('id'))}: {problem}")
        return problems


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, workdir, emulator)
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            code = await raw.close()
            assert code == 0
    # Whatever a test did, everything the server wrote must follow the reference schema.
    assert raw.schema_errors() == []


async def start_thread(client: RawClient, **params: Any) -> str:
    result = await client.result("thread/start", params)
    thread_id: str = result["thread"]["id"]
    return thread_id


async def start_turn(client: RawClient, thread_id: str, text: str) -> str:
    result = await client.result(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]}
    )
    assert result["turn"]["status"] == "inProgress"
    turn_id: str = result["turn"]["id"]
    return turn_id


# -- tests -----------------------------------------------------------------------------------


async def test_initialize_reports_the_server_and_rejects_a_second_initialize(
    client: RawClient, codex_home: Path
) -> None:
    result = await client.initialize()
    assert result["userAgent"].startswith("codex_engine/")
    assert result["codexHome"] == str(codex_home)
    assert result["platformFamily"] == "unix"
    error = await client.error("initialize", {"clientInfo": {"name": "again", "version": "1"}})
    assert error["code"] == -32600 and "already" in error["message"]


async def test_two_turns_stream_items_whose_ids_stay_stable(client: RawClient) -> None:
    await client.initialize()
    started = await client.result("thread/start", {"approvalPolicy": "never"})
    thread_id = started["thread"]["id"]
    assert started["thread"]["status"] == {"type": "idle"}
    assert started["sandbox"] == {"type": "readOnly", "networkAccess": False}
    await client.wait_for(lambda m: m["method"] == "thread/started")

    for text in ("say hello", "and again"):
        turn_id = await start_turn(client, thread_id, text)
        turn = await client.turn_completed(turn_id)
        assert turn["status"] == "completed" and turn["error"] is None
        events = client.of_turn(turn_id)
        methods = [m["method"] for m in events]
        assert methods[0] == "turn/started" and methods[-1] == "turn/completed"
        user = next(m["params"]["item"] for m in events if m["method"] == "item/completed")
        assert user["type"] == "userMessage" and user["content"][0]["text"] == text
        message_started = next(
            m["params"]["item"]
            for m in events
            if m["method"] == "item/started" and m["params"]["item"]["type"] == "agentMessage"
        )
        deltas = [m["params"] for m in events if m["method"] == "item/agentMessage/delta"]
        done = next(
            m["params"]["item"]
            for m in events
            if m["method"] == "item/completed" and m["params"]["item"]["type"] == "agentMessage"
        )
        assert len(deltas) > 1
        assert {d["itemId"] for d in deltas} == {message_started["id"]} == {done["id"]}
        assert "".join(d["delta"] for d in deltas) == done["text"]
        assert f"You said: {text}" in done["text"]
        assert turn["items"] == [done]
        usage = [m["params"] for m in events if m["method"] == "thread/tokenUsage/updated"]
        assert usage and usage[-1]["tokenUsage"]["last"]["inputTokens"] > 0
        runtime = events[-1]["params"]["runtimeSummary"]
        assert runtime["api_calls"]["count"] == 1
        assert runtime["stream_events"]["count"] > len(deltas)
        statuses = [
            m["params"]["status"]["type"]
            for m in client.notifications
            if m["method"] == "thread/status/changed"
        ]
        assert statuses[-2:] == ["active", "idle"]

    read = await client.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    turns = read["thread"]["turns"]
    assert [t["status"] for t in turns] == ["completed", "completed"]
    assert turns[0]["items"][0]["type"] == "userMessage"
    assert read["thread"]["preview"] == "say hello"


async def test_malformed_input_is_answered_and_the_server_keeps_serving(
    client: RawClient,
) -> None:
    # Before initialize, everything but initialize is refused.
    error = await client.error("thread/start", {})
    assert error["code"] == -32600 and "initialize" in error["message"]
    await client.initialize()
    # A broken line whose id can still be read gets a parse error for that id.
    broken = asyncio.get_running_loop().create_future()
    client.expect("broken-1", "thread/start", broken)
    await client.send_line(b'{"id": "broken-1", "method": "thread/start", "params": {,}\n')
    assert (await broken)["error"]["code"] == -32700
    # Lines with no usable id are dropped (the schema has no null id) without killing anything.
    for garbage in (b"not json at all\n", b"[1, 2, 3]\n", b"42\n", b"{}\n", b"\n"):
        await client.send_line(garbage)
    unknown = await client.error("no/such/method", {})
    assert unknown["code"] == -32600 and "no/such/method" in unknown["message"]
    later = await client.error("thread/approveGuardianDeniedAction", {})
    assert later["code"] == -32600 and "not implemented yet" in later["message"]
    unknown_thread = await client.error("thread/resume", {"threadId": "x"})
    assert unknown_thread["code"] == -32600 and "no recorded thread x" in unknown_thread["message"]
    wrong = await client.error("thread/start", {"cwd": 42})
    assert wrong["code"] == -32600 and "`cwd`" in wrong["message"]
    not_object = await client.error("thread/start", [1, 2])
    assert not_object["code"] == -32600
    missing = await client.error("turn/start", {"input": []})
    assert missing["code"] == -32600 and "`threadId` is required" in missing["message"]
    bad_policy = await client.error("thread/start", {"approvalPolicy": "sometimes"})
    assert bad_policy["code"] == -32600 and "approvalPolicy" in bad_policy["message"]
    ghost = await client.error(
        "turn/start", {"threadId": "nope", "input": [{"type": "text", "text": "hi"}]}
    )
    assert ghost["code"] == -32600 and "nope" in ghost["message"]
    # A `jsonrpc` member is accepted; integer and string ids both work.
    listed = await client.call("model/list", {}, request_id=777, jsonrpc="2.0")
    assert listed["result"]["data"]
    thread_id = await start_thread(client)
    image = await client.error(
        "turn/start", {"threadId": thread_id, "input": [{"type": "image", "url": "x"}]}
    )
    assert image["code"] == -32600 and "image" in image["message"]
    steer = await client.error(
        "turn/steer",
        {"threadId": thread_id, "expectedTurnId": "t", "input": [{"type": "text", "text": "x"}]},
    )
    assert steer["code"] == -32600 and steer["message"] == "no active turn to steer"
    schema = await client.error(
        "turn/start",
        {"threadId": thread_id, "outputSchema": 5, "input": [{"type": "text", "text": "x"}]},
    )
    assert schema["code"] == -32600 and "outputSchema" in schema["message"]
    # Still serving: a real turn completes.
    turn = await client.turn_completed(await start_turn(client, thread_id, "still there?"))
    assert turn["status"] == "completed"


async def test_model_list_pages_through_the_catalog(client: RawClient) -> None:
    await client.initialize()
    everything = await client.result("model/list", {"includeHidden": True})
    visible = await client.result("model/list", {})
    assert len(everything["data"]) >= len(visible["data"]) > 0
    assert sum(m["isDefault"] for m in everything["data"]) == 1
    first = await client.result("model/list", {"includeHidden": True, "limit": 1})
    assert len(first["data"]) == 1 and first["nextCursor"] is not None
    second = await client.result(
        "model/list", {"includeHidden": True, "limit": 1, "cursor": first["nextCursor"]}
    )
    assert second["data"][0]["id"] == everything["data"][1]["id"]


async def test_command_approval_goes_to_the_client_and_its_decision_is_followed(
    client: RawClient, workdir: Path
) -> None:
    await client.initialize()
    # `untrusted` asks before any command that may write, whatever sandbox is available. The
    # `shell` tool (its command is shown below): unified exec off for this thread.
    thread_id = await start_thread(
        client,
        approvalPolicy="untrusted",
        sandbox="danger-full-access",
        cwd=str(workdir),
        config={"features.unified_exec": False},
    )
    decisions = iter(["decline", "accept"])
    seen: list[Json] = []

    async def answer() -> None:
        while True:
            request = await client.server_requests.get()
            seen.append(request)
            decision = next(decisions)
            await client.send({"id": request["id"], "result": {"decision": decision}})

    answering = asyncio.create_task(answer())
    try:
        statuses = []
        for _ in range(2):
            turn_id = await start_turn(client, thread_id, "run `touch made-by-the-model`")
            turn = await client.turn_completed(turn_id)
            assert turn["status"] == "completed"
            command = next(
                m["params"]["item"]
                for m in client.of_turn(turn_id)
                if m["method"] == "item/completed"
                and m["params"]["item"]["type"] == "commandExecution"
            )
            statuses.append(command["status"])
            assert command["id"] == seen[-1]["params"]["itemId"]
            assert seen[-1]["params"]["turnId"] == turn_id
    finally:
        answering.cancel()
    assert [r["method"] for r in seen] == ["item/commandExecution/requestApproval"] * 2
    assert seen[0]["params"]["command"] == "bash -lc 'touch made-by-the-model'"
    assert statuses == ["declined", "completed"]
    assert (workdir / "made-by-the-model").exists()
    waiting = [
        m["params"]["status"]
        for m in client.notifications
        if m["method"] == "thread/status/changed" and m["params"]["status"].get("activeFlags")
    ]
    assert waiting and waiting[0]["activeFlags"] == ["waitingOnApproval"]
    assert any(m["method"] == "serverRequest/resolved" for m in client.notifications)


async def test_interrupt_ends_a_turn_that_is_waiting_on_the_model(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    await client.initialize()
    thread_id = await start_thread(client)
    emulator.first_event_delay = 3600
    turn_id = await start_turn(client, thread_id, "take your time")
    await client.wait_for(lambda m: m["method"] == "turn/started")
    await emulator.wait_for_request("http")
    wrong = await client.error("turn/interrupt", {"threadId": thread_id, "turnId": "other"})
    assert wrong["code"] == -32600 and turn_id in wrong["message"]
    assert await client.result("turn/interrupt", {"threadId": thread_id, "turnId": turn_id}) == {}
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "interrupted"
    emulator.first_event_delay = 0
    assert (await client.turn_completed(await start_turn(client, thread_id, "x")))["status"] == (
        "completed"
    )


async def test_twenty_threads_run_turns_at_the_same_time(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    await client.initialize()
    threads = await asyncio.gather(*(start_thread(client) for _ in range(20)))
    assert len(set(threads)) == 20
    # Phase 1: twenty turns at once; every answer lands on its own thread and turn.
    turns = await asyncio.gather(
        *(start_turn(client, t, f"thread number {i}") for i, t in enumerate(threads))
    )
    for index, (thread_id, turn_id) in enumerate(zip(threads, turns, strict=True)):
        turn = await client.turn_completed(turn_id)
        assert turn["status"] == "completed"
        assert f"You said: thread number {index}" in turn["items"][-1]["text"]
        assert {m["params"].get("threadId", thread_id) for m in client.of_turn(turn_id)} == {
            thread_id
        }
    # Phase 2: hold every model stream open; all twenty requests are in flight together.
    before = len(emulator.requests_of("http"))
    emulator.first_event_delay = 3600
    turns = await asyncio.gather(*(start_turn(client, t, "wait") for t in threads))
    await emulator.wait_for_request("http", count=before + 20)
    await asyncio.gather(
        *(
            client.result("turn/interrupt", {"threadId": t, "turnId": u})
            for t, u in zip(threads, turns, strict=True)
        )
    )
    for turn_id in turns:
        assert (await client.turn_completed(turn_id))["status"] == "interrupted"


async def test_every_emitted_message_validates_against_the_reference_schema(
    client: RawClient,
) -> None:
    require_reference(SCHEMA)
    await client.initialize()
    thread_id = await start_thread(client, sandbox="danger-full-access", approvalPolicy="never")
    turn_id = await start_turn(client, thread_id, "run `echo schema-check`")
    await client.turn_completed(turn_id)
    await client.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    await client.result("model/list", {"includeHidden": True})
    await client.result("thread/list", {})
    kinds = {m.get("method", "response") for m in client.received}
    assert {"item/started", "item/completed", "turn/completed", "response"} <= kinds
    commands = [
        m["params"]["item"]
        for m in client.notifications
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "commandExecution"
    ]
    assert commands and commands[0]["exitCode"] == 0
    assert "schema-check" in commands[0]["aggregatedOutput"]
    assert client.schema_errors() == []
