"""The app-server's stdio when it is not a pair of pipes, and input it must survive.

Regular files, ``/dev/null`` and lines nested too deep, against the real process (and the
end-of-script rule against a real connection over OS pipes).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server.connection import Connection
from codex_engine.app_server.server import AppServer, ServerOptions
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.jsonrpc import MAX_DEPTH, DecodeFailure, Request, decode
from tests.conftest import TEST_MODEL, cli_env
from tests.test_app_server import Json, RawClient, schema_checker
from tests.test_app_server_connection import pipe_reader, pipe_writer

INIT = {"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "1"}}}


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _server_args(emulator: ResponsesEmulator) -> list[str]:
    return [
        sys.executable,
        "-m",
        "codex_engine",
        "-c",
        f"model={TEST_MODEL}",
        "-c",
        "model_provider=emulator",
        "-c",
        f"model_providers.emulator.base_url={emulator.base_url}",
        "app-server",
    ]


async def _run_server(
    emulator: ResponsesEmulator, home: Path, cwd: Path, *, stdin: Any, stdout: Any
) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *_server_args(emulator),
        cwd=cwd,
        env=cli_env(home),
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def _check_schema(messages: list[Json], methods: dict[Any, str]) -> None:
    checker = schema_checker()
    if checker is not None:
        problems = [p for m in messages for p in checker.errors(m, methods.get)]
        assert problems == []


def _script(tmp_path: Path, workdir: Path) -> tuple[Path, dict[Any, str]]:
    requests: list[Json] = [
        INIT,
        {"method": "initialized"},
        {"id": 2, "method": "thread/start", "params": {"cwd": str(workdir)}},
        {"id": 3, "method": "model/list", "params": {"limit": 1}},
        {"id": 4, "method": "thread/list", "params": {}},
        {"id": 5, "method": "no/such/method", "params": {}},
    ]
    lines = [json.dumps(r) for r in requests]
    lines += [
        "not json at all",
        '{"id": 6, "method": "thread/start", "params": {,}',
        '{"id": 7, "method": "thread/start", "params": ' + _deep(1000) + "}",
        _deep(5000),
    ]
    script = tmp_path / "requests.jsonl"
    # The last line has no newline: end of file ends it.
    script.write_text("\n".join(lines))
    methods = {r["id"]: r["method"] for r in requests if "id" in r}
    methods.update({6: "thread/start", 7: "thread/start"})
    return script, methods


async def test_a_request_script_in_a_file_is_answered_into_a_file(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    script, methods = _script(tmp_path, workdir)
    out = tmp_path / "out.jsonl"
    with script.open("rb") as stdin, out.open("wb") as stdout:
        code, stderr = await _run_server(emulator, codex_home, workdir, stdin=stdin, stdout=stdout)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    messages = [json.loads(line) for line in out.read_text().splitlines()]
    answers = {m["id"]: m for m in messages if "id" in m and "method" not in m}
    assert sorted(answers) == [1, 2, 3, 4, 5, 6, 7]
    assert "result" in answers[2] and answers[2]["result"]["thread"]["cwd"] == str(workdir)
    assert len(answers[3]["result"]["data"]) == 1
    assert answers[5]["error"]["code"] == -32600
    assert answers[6]["error"]["code"] == -32700
    assert answers[7]["error"]["code"] == -32700 and "nested" in answers[7]["error"]["message"]
    # thread/start's work after its answer (the thread/started notification) was not cut off.
    assert any(m.get("method") == "thread/started" for m in messages)
    _check_schema(messages, methods)


async def test_stdin_from_dev_null_ends_at_once_with_exit_0(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    code, stderr = await _run_server(
        emulator, codex_home, tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert code == 0 and "Traceback" not in stderr, stderr


async def test_requests_read_before_the_pipe_closes_are_answered_into_a_file(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    requests = [INIT, {"id": 2, "method": "model/list", "params": {}}]
    payload = "".join(json.dumps(r) + "\n" for r in requests).encode()
    with out.open("wb") as stdout:
        process = await asyncio.create_subprocess_exec(
            *_server_args(emulator),
            cwd=tmp_path,
            env=cli_env(codex_home),
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(payload), 60)
    assert process.returncode == 0, stderr
    messages = [json.loads(line) for line in out.read_text().splitlines()]
    assert [m["id"] for m in messages if "id" in m] == [1, 2]
    _check_schema(messages, {1: "initialize", 2: "model/list"})


async def test_a_turn_running_when_a_script_ends_completes_before_the_server_returns(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    sink = await pipe_writer(out_write)
    connection = Connection(await pipe_reader(in_read), sink, finish_background_at_eof=True)
    options = ServerOptions(
        overrides=[
            (["model"], TEST_MODEL),
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
        ],
        env=cli_env(codex_home),
    )
    server = AppServer(connection, options)
    running = asyncio.create_task(connection.run(server))
    to_server = await pipe_writer(in_write)
    from_server = await pipe_reader(out_read)

    async def answer(request_id: int) -> Json:
        while True:
            message: Json = json.loads(await from_server.readline())
            if message.get("id") == request_id and "method" not in message:
                return message

    async def send(message: Json) -> None:
        to_server.write(json.dumps(message).encode() + b"\n")
        await to_server.drain()

    await send(INIT)
    await answer(1)
    await send({"id": 2, "method": "thread/start", "params": {"cwd": str(tmp_path)}})
    thread_id = (await answer(2))["result"]["thread"]["id"]
    # The model takes a while to answer: the turn is still running when the input ends.
    emulator.first_event_delay = 1.0
    text = [{"type": "text", "text": "say hello"}]
    await send({"id": 3, "method": "turn/start", "params": {"threadId": thread_id, "input": text}})
    await answer(3)
    await emulator.wait_for_request("http")
    to_server.close()
    await asyncio.wait_for(running, 60)
    await server.shutdown()
    await connection.close()
    sink.close()
    rest = (await from_server.read()).decode().splitlines()
    completed = [json.loads(line) for line in rest if '"turn/completed"' in line]
    assert [c["params"]["turn"]["status"] for c in completed] == ["completed"]


async def test_a_line_nested_too_deep_is_answered_and_the_server_keeps_serving(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    client = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        await client.initialize()
        for depth in (1000, 100_000):
            deep = asyncio.get_running_loop().create_future()
            client.expect(f"deep-{depth}", "thread/start", deep)
            line = f'{{"id": "deep-{depth}", "method": "thread/start", "params": {_deep(depth)}}}'
            await client.send_line(line.encode() + b"\n")
            error = (await deep)["error"]
            assert error["code"] == -32700 and f"deeper than {MAX_DEPTH}" in error["message"]
        # Without a readable id there is nobody to answer; the server only logs it.
        await client.send_line(_deep(5000).encode() + b"\n")
        assert (await client.result("model/list", {}))["data"]
    finally:
        code = await client.close()
    assert code == 0
    assert b"Traceback" not in client.stderr
    assert client.schema_errors() == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id":1,"method":"m","params":' + _deep(MAX_DEPTH - 1) + "}", Request),
        ('{"id":1,"method":"m","params":' + _deep(MAX_DEPTH) + "}", DecodeFailure),
        # Brackets inside strings are text, not nesting.
        ('{"id":1,"method":"m","params":{"t":"' + "[{" * 500 + '\\"]"}}', Request),
        (_deep(10_000), DecodeFailure),
    ],
)
def test_decode_bounds_the_nesting_depth(line: str, expected: type) -> None:
    message = decode(line)
    assert isinstance(message, expected)
    if isinstance(message, DecodeFailure):
        assert message.code == -32700
