"""Unified exec through ``exec --json`` and the app-server: its commands show as the usual
command items, escalation is refused when nobody can approve, and nothing it started outlives
the run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.test_app_server import RawClient
from tests.test_app_server_command_exec import processes_running
from tests.test_unified_exec import exec_call


async def exec_json(
    emulator: ResponsesEmulator, home: Path, cwd: Path, *replies: Reply, sandbox: str
) -> tuple[list[dict[str, Any]], list[str]]:
    emulator.enqueue(*replies, Reply.text("done"))
    mode = (
        ["--dangerously-bypass-approvals-and-sandbox"] if sandbox == "bypass" else ["-s", sandbox]
    )
    result = await run_cli(
        "exec",
        "--json",
        "--enable",
        "unified_exec",
        *mode,
        *emulator_flags(emulator.base_url),
        "--skip-git-repo-check",
        "go",
        home=home,
        cwd=cwd,
        # A login shell must not read this machine's profile (one here waits on stdin).
        HOME=str(cwd),
    )
    assert result.code == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    outputs = []
    for request in emulator.requests_of("http"):
        for item in request.body["input"]:
            if item.get("type") == "function_call_output" and item["output"] not in outputs:
                outputs.append(item["output"])
    return events, outputs


def command_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in events
        if e["type"] == "item.completed" and e["item"]["type"] == "command_execution"
    ]


async def test_exec_json_shows_unified_exec_commands_as_command_items(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    events, outputs = await exec_json(
        emulator, codex_home, tmp_path, exec_call("echo hi"), sandbox="danger-full-access"
    )
    assert emulator.requests_of("http")[0].body["tools"][0]["name"] == "exec_command"
    [item] = command_items(events)
    assert (item["status"], item["exit_code"], item["aggregated_output"]) == (
        "completed",
        0,
        "hi\n",
    )
    assert outputs[0].endswith("Process exited with code 0\nOriginal token count: 1\nOutput:\nhi\n")


async def test_exec_refuses_escalation_since_nobody_can_approve(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "escalated"
    call = exec_call(
        f"touch {target}", sandbox_permissions="require_escalated", justification="Touch?"
    )
    events, outputs = await exec_json(emulator, codex_home, tmp_path, call, sandbox="read-only")
    [item] = command_items(events)
    assert item["status"] == "declined"
    assert outputs[0].startswith("command not run: running outside the sandbox needs approval")
    assert not target.exists()


async def test_with_the_bypass_flag_an_escalated_command_runs(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "escalated"
    call = exec_call(f"touch {target}", sandbox_permissions="require_escalated")
    events, _ = await exec_json(emulator, codex_home, tmp_path, call, sandbox="bypass")
    [item] = command_items(events)
    assert item["status"] == "completed" and target.exists()


async def test_a_process_left_running_dies_when_exec_exits(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    call = exec_call("echo started; sleep 300.75", yield_time_ms=250)
    _, outputs = await exec_json(emulator, codex_home, tmp_path, call, sandbox="danger-full-access")
    assert "Process running with session ID" in outputs[0]
    assert processes_running("300.75") == []


async def test_app_server_items_carry_the_unified_exec_source_and_process_id(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.enqueue(exec_call("echo hi", login=False), Reply.text("done"))
    client = await RawClient.start(
        codex_home, tmp_path, emulator, "-c", "features.unified_exec=true"
    )
    try:
        await client.initialize()
        thread = await client.result("thread/start", {"sandbox": "danger-full-access"})
        turn = await client.result(
            "turn/start",
            {"threadId": thread["thread"]["id"], "input": [{"type": "text", "text": "go"}]},
        )
        await client.turn_completed(turn["turn"]["id"])
    finally:
        assert await client.close() == 0
    assert client.schema_errors() == []
    started = [
        m["params"]["item"]
        for m in client.notifications
        if m["method"] == "item/started" and m["params"]["item"]["type"] == "commandExecution"
    ]
    [item] = started
    assert item["source"] == "unifiedExecStartup" and item["processId"].isdigit()
    deltas = [
        m["params"]["delta"]
        for m in client.notifications
        if m["method"] == "item/commandExecution/outputDelta"
    ]
    assert "".join(deltas) == "hi\n"


async def test_app_server_escalation_proposes_the_prefix_rule_and_remembers_it(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    escalated = {"sandbox_permissions": "require_escalated", "prefix_rule": ["touch"]}
    emulator.enqueue(
        exec_call(f"touch {tmp_path}/one", justification="Touch one?", **escalated),
        exec_call(f"touch {tmp_path}/two", **escalated),
        Reply.text("done"),
    )
    client = await RawClient.start(
        codex_home, tmp_path, emulator, "-c", "features.unified_exec=true"
    )
    seen: list[dict[str, Any]] = []

    async def answer() -> None:
        while True:
            request = await client.server_requests.get()
            seen.append(request)
            amendment = request["params"]["proposedExecpolicyAmendment"]
            decision = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": amendment}}
            await client.send({"id": request["id"], "result": {"decision": decision}})

    answering = asyncio.create_task(answer())
    try:
        await client.initialize()
        thread = await client.result(
            "thread/start", {"sandbox": "read-only", "approvalPolicy": "on-request"}
        )
        turn = await client.result(
            "turn/start",
            {"threadId": thread["thread"]["id"], "input": [{"type": "text", "text": "go"}]},
        )
        await client.turn_completed(turn["turn"]["id"])
    finally:
        answering.cancel()
        assert await client.close() == 0
    assert client.schema_errors() == []
    [request] = seen
    assert request["params"]["reason"] == "Touch one?"
    assert request["params"]["proposedExecpolicyAmendment"] == ["touch"]
    assert (tmp_path / "one").exists() and (tmp_path / "two").exists()
