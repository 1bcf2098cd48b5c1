"""``update_plan`` (offered when ``[tools.update_plan] enabled = true``, as in 0.163): the
model's plan shows as a ``todo_list`` item in ``exec --json`` (started, updated, completed at
the turn's end, as the reference prints it), in the terminal, and as ``turn/plan/updated`` in
the app-server; a malformed plan is told to the model. tests/reference/update_plan_0.163.json
records what 0.163 prints and sends for the same script."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.test_app_server import RawClient, start_thread, start_turn
from tests.test_tools_wire_parity import comparable

RECORDED = json.loads(
    (Path(__file__).parent / "reference" / "update_plan_0.163.json").read_text("utf-8")
)

ENABLE = ("-c", "tools.update_plan={enabled=true}")
FIRST, SECOND = RECORDED["scripted_calls"]


def plan_replies() -> list[Reply]:
    return [
        Reply.function_call("update_plan", FIRST, "call_1"),
        Reply.function_call("update_plan", SECOND, "call_2"),
        Reply.function_call("update_plan", {"plan": "bad"}, "call_3"),
        Reply.text("ok"),
    ]


def outputs(emulator: ResponsesEmulator) -> list[Any]:
    last = emulator.requests_of("http")[-1].body["input"]
    return [i["output"] for i in last if i.get("type") == "function_call_output"]


async def exec_turn(
    emulator: ResponsesEmulator, home: Path, cwd: Path, *flags: str
) -> tuple[int, str, str]:
    result = await run_cli(
        "exec", "--skip-git-repo-check", *flags, *emulator_flags(emulator.base_url), "plan it",
        home=home, cwd=cwd,
    )  # fmt: skip
    return result.code, result.stdout, result.stderr


async def test_exec_json_shows_the_plan_as_a_todo_list_item(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.enqueue(*plan_replies())
    code, stdout, stderr = await exec_turn(emulator, codex_home, tmp_path, "--json", *ENABLE)
    assert code == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    shown = [(e["type"], e["item"]) for e in lines if "item" in e]
    # Exactly as 0.163 prints it: started with the first plan, updated by the next, completed
    # (with the last plan) after the answer, just before turn.completed.
    assert shown == [(e["type"], e["item"]) for e in RECORDED["exec_json_items"]]
    assert lines[-1]["type"] == "turn.completed"
    said = outputs(emulator)
    assert said[:2] == RECORDED["outputs"]
    assert said[2].startswith("plan not updated: `plan` must be an array")
    spec = next(
        t for t in emulator.requests_of("http")[0].body["tools"] if t.get("name") == "update_plan"
    )
    assert comparable(spec) == RECORDED["tool"]


async def test_the_terminal_shows_the_plan_and_the_tool_is_off_by_default(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.enqueue(*plan_replies())
    code, _stdout, stderr = await exec_turn(emulator, codex_home, tmp_path, *ENABLE)
    assert code == 0, stderr
    assert "plan — start" in stderr and "[>] read" in stderr and "[ ] write" in stderr
    assert "[x] write" in stderr
    emulator.enqueue(Reply.text("no plan"))
    code, _stdout, stderr = await exec_turn(emulator, codex_home, tmp_path)
    assert code == 0, stderr
    names = [t.get("name") for t in emulator.requests_of("http")[-1].body["tools"]]
    assert "update_plan" not in names


async def test_the_app_server_sends_turn_plan_updated(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.enqueue(*plan_replies())
    client = await RawClient.start(codex_home, tmp_path, emulator, *ENABLE)
    try:
        await client.initialize()
        thread_id = await start_thread(client)
        turn_id = await start_turn(client, thread_id, "plan it")
        await client.turn_completed(turn_id)
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
    plans = [m["params"] for m in client.notifications if m["method"] == "turn/plan/updated"]
    assert plans == [
        {
            "threadId": thread_id,
            "turnId": turn_id,
            "explanation": "start",
            "plan": [
                {"step": "read", "status": "inProgress"},
                {"step": "write", "status": "pending"},
            ],
        },
        {
            "threadId": thread_id,
            "turnId": turn_id,
            "explanation": None,
            "plan": [
                {"step": "read", "status": "completed"},
                {"step": "write", "status": "completed"},
            ],
        },
    ]
    assert client.schema_errors() == []
