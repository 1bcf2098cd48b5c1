"""``command/exec`` and its follow-ups through real pipes: buffered and streamed output, a PTY
written to, resized and terminated, stdin streamed and closed, the sandbox, the timeout, the
output cap, refusals, and no process left once the connection closes. Every message the server
writes is checked against the reference schema."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.core.sandbox import detect_sandbox
from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import Json, RawClient


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
    await raw.initialize()
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


async def start_exec(client: RawClient, params: Json) -> asyncio.Future[Json]:
    """Send ``command/exec`` now (so what is sent next comes after it); its response later."""
    client._next_id += 1
    request_id = client._next_id
    response: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
    client.expect(request_id, "command/exec", response)
    await client.send({"id": request_id, "method": "command/exec", "params": params})
    return response


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def streamed(client: RawClient, process_id: str, stream: str = "stdout") -> bytes:
    return b"".join(
        base64.b64decode(m["params"]["deltaBase64"])
        for m in client.notifications
        if m["method"] == "command/exec/outputDelta"
        and m["params"]["processId"] == process_id
        and m["params"]["stream"] == stream
    )


async def output_contains(client: RawClient, process_id: str, text: bytes) -> None:
    async with asyncio.timeout(20):
        while text not in streamed(client, process_id):
            await client.wait_for(
                lambda m: (
                    m["method"] == "command/exec/outputDelta"
                    and text in streamed(client, process_id)
                )
            )


def processes_running(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
    return found


async def test_a_buffered_command_returns_stdout_stderr_and_exit_code(
    client: RawClient, workdir: Path
) -> None:
    result = await client.result(
        "command/exec", {"command": ["sh", "-c", "echo out; echo err >&2; pwd; exit 4"]}
    )
    assert result == {"exitCode": 4, "stdout": f"out\n{workdir}\n", "stderr": "err\n"}


async def test_a_pty_is_written_to_resized_and_terminated(client: RawClient, workdir: Path) -> None:
    script = "stty size; read a; echo got:$a; read b; stty size; sleep 300"
    params: dict[str, Any] = {
        "command": ["bash", "-c", script],
        "processId": "pty-1",
        "tty": True,
        "size": {"rows": 10, "cols": 40},
    }
    running = await start_exec(client, params)
    await output_contains(client, "pty-1", b"10 40")
    write = {"processId": "pty-1", "deltaBase64": b64(b"hello\n")}
    assert await client.result("command/exec/write", write) == {}
    await output_contains(client, "pty-1", b"got:hello")
    resize = {"processId": "pty-1", "size": {"rows": 20, "cols": 100}}
    assert await client.result("command/exec/resize", resize) == {}
    assert await client.result("command/exec/write", {**write, "deltaBase64": b64(b"x\n")}) == {}
    await output_contains(client, "pty-1", b"20 100")
    assert not running.done()
    assert await client.result("command/exec/terminate", {"processId": "pty-1"}) == {}
    response = await running
    # Streamed output is not repeated in the response; the process was killed.
    assert response["result"]["stdout"] == "" and response["result"]["exitCode"] != 0
    # The terminal echoed what was typed.
    assert b"hello\r\n" in streamed(client, "pty-1")
    error = await client.error("command/exec/write", write)
    assert error["code"] == -32600 and "pty-1" in error["message"]


async def test_streamed_stdin_is_closed_and_the_command_finishes(client: RawClient) -> None:
    params = {
        "command": ["sh", "-c", "cat; echo done >&2"],
        "processId": "cat-1",
        "streamStdin": True,
        "streamStdoutStderr": True,
    }
    running = await start_exec(client, params)
    write = {"processId": "cat-1", "deltaBase64": b64(b"abc"), "closeStdin": True}
    assert await client.result("command/exec/write", write) == {}
    response = await running
    assert response["result"] == {"exitCode": 0, "stdout": "", "stderr": ""}
    assert streamed(client, "cat-1") == b"abc"
    assert streamed(client, "cat-1", "stderr") == b"done\n"
    # Every delta came before the response.
    index = client.received.index(response)
    assert all(
        client.received.index(m) < index
        for m in client.notifications
        if m["method"] == "command/exec/outputDelta"
    )


async def test_the_sandbox_confines_writes_unless_the_policy_allows_them(
    client: RawClient, workdir: Path
) -> None:
    if not (await detect_sandbox()).available:
        pytest.skip("bubblewrap cannot sandbox here")
    touch = {"command": ["touch", str(workdir / "made")]}
    # The server's configured sandbox (read-only by default) applies.
    refused = await client.result("command/exec", touch)
    assert refused["exitCode"] != 0 and "Read-only file system" in refused["stderr"]
    assert not (workdir / "made").exists()
    allowed = await client.result(
        "command/exec", {**touch, "sandboxPolicy": {"type": "workspaceWrite"}}
    )
    assert allowed["exitCode"] == 0 and (workdir / "made").exists()


async def test_timeout_and_output_cap(client: RawClient) -> None:
    slow = await client.result("command/exec", {"command": ["sleep", "30"], "timeoutMs": 200})
    assert slow["exitCode"] == 124
    capped = await client.result(
        "command/exec", {"command": ["echo", "0123456789"], "outputBytesCap": 5}
    )
    assert capped == {"exitCode": 0, "stdout": "01234", "stderr": ""}


@pytest.mark.parametrize(
    ("method", "params", "says"),
    [
        ("command/exec", {"command": []}, "must not be empty"),
        ("command/exec", {"command": ["true"], "tty": True}, "processId"),
        ("command/exec", {"command": ["true"], "size": {"rows": 1, "cols": 1}}, "tty"),
        ("command/exec", {"command": ["true"], "timeoutMs": 5, "disableTimeout": True}, "timeout"),
        ("command/exec", {"command": ["true"], "cwd": "/"}, "outside the directories"),
        ("command/exec/write", {"processId": "nope", "deltaBase64": ""}, "nope"),
        ("command/exec/resize", {"processId": "nope", "size": {"rows": 1, "cols": 1}}, "nope"),
        ("command/exec/terminate", {"processId": "nope"}, "nope"),
    ],
)
async def test_invalid_requests_are_refused_with_a_reason(
    client: RawClient, method: str, params: Json, says: str
) -> None:
    error = await client.error(method, params)
    assert error["code"] == -32600 and says in error["message"], error


async def test_a_pipe_process_cannot_be_resized_nor_written_without_stream_stdin(
    client: RawClient,
) -> None:
    params = {
        "command": ["sh", "-c", "echo ready; exec sleep 300.25"],
        "processId": "p",
        "streamStdoutStderr": True,
    }
    running = await start_exec(client, params)
    await output_contains(client, "p", b"ready")
    resize = await client.error(
        "command/exec/resize", {"processId": "p", "size": {"rows": 1, "cols": 1}}
    )
    assert "no terminal" in resize["message"]
    write = await client.error("command/exec/write", {"processId": "p", "deltaBase64": "eA=="})
    assert "streamStdin" in write["message"]
    await client.result("command/exec/terminate", {"processId": "p"})
    await running


async def test_processes_die_with_the_connection(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    raw = await RawClient.start(codex_home, workdir, emulator)
    await raw.initialize()
    params = {
        "command": ["sh", "-c", "echo ready; sleep 300.5"],
        "processId": "bg",
        "streamStdoutStderr": True,
    }
    running = await start_exec(raw, params)
    await output_contains(raw, "bg", b"ready")
    assert processes_running("300.5")
    assert await raw.close() == 0
    with contextlib.suppress(AssertionError):
        await running
    assert processes_running("300.5") == []
    assert raw.schema_errors() == []


async def test_the_sdk_models_build_the_request_and_read_what_comes_back(
    client: RawClient,
) -> None:
    # The official SDK has no call for command/exec, only its generated wire models: requests
    # built with them are understood, and what the server sends parses with them.
    from openai_codex.generated import v2_all

    params = v2_all.CommandExecParams(
        command=["sh", "-c", "printf abc; printf err >&2"],
        process_id="sdk-1",
        stream_stdout_stderr=True,
    ).model_dump(by_alias=True, exclude_none=True, mode="json")
    result = v2_all.CommandExecResponse.model_validate(await client.result("command/exec", params))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    deltas = [
        v2_all.CommandExecOutputDeltaNotification.model_validate(m["params"])
        for m in client.notifications
        if m["method"] == "command/exec/outputDelta"
    ]
    assert b"".join(base64.b64decode(d.delta_base64) for d in deltas) in (b"abcerr", b"errabc")
    assert {d.process_id for d in deltas} == {"sdk-1"}


async def test_a_program_that_does_not_exist_fails_the_request_in_one_line(
    client: RawClient,
) -> None:
    params = {"command": ["no-such-program-here"], "sandboxPolicy": {"type": "dangerFullAccess"}}
    error = await client.error("command/exec", params)
    assert error["code"] == -32603 and "no-such-program-here" in error["message"]
    assert "\n" not in error["message"]
