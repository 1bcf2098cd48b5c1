"""Turns through the library API: tool calls, permissions, interrupts, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from codex_engine.config.catalog import find_model_info
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    ItemStarted,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    WarningEvent,
)
from codex_engine.core.sandbox import detect_sandbox
from codex_engine.core.session import Session, SessionDeps
from codex_engine.core.settings import SettingsChange
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.errors import InvalidRequestError
from tests.conftest import make_client
from tests.session_support import (
    NO_SANDBOX,
    RecordingApprover,
    one_turn,
    outputs_sent,
    run,
    settings,
)


async def test_tool_turn_runs_the_command_and_answers_from_its_output(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        # The `shell` tool (its JSON output is checked below): unified exec off.
        session = Session(settings(tmp_path, unified_exec=False), SessionDeps(client))
        events = await run(session, "run `echo hello-from-tool`")
    finished = [e for e in events if isinstance(e, CommandFinished)]
    assert len(finished) == 1 and finished[0].exit_code == 0
    assert finished[0].output == "hello-from-tool\n"
    streamed = "".join(e.chunk for e in events if isinstance(e, CommandOutputDelta))
    assert streamed == "hello-from-tool\n"
    assert json.loads(outputs_sent(emulator)[-1])["output"] == "hello-from-tool\n"
    answer = "".join(e.delta for e in events if isinstance(e, AgentMessageDelta))
    assert "hello-from-tool" in answer
    last = events[-1]
    assert isinstance(last, TurnCompleted)
    assert last.summary.requests == 2 and last.summary.tool_calls == 1
    assert last.summary.usage.input_tokens > 0
    # Both requests of the turn carry the same instructions and the same environment prefix.
    bodies = [r.body for r in emulator.requests_of("http")]
    assert {b["instructions"] for b in bodies} == {"You are a test agent."}
    assert bodies[0]["input"][0] == bodies[1]["input"][0]
    assert "<environment_context>" in bodies[0]["input"][0]["content"][0]["text"]


async def test_without_a_sandbox_a_command_that_may_write_is_refused(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    target = tmp_path / "created.txt"
    async with make_client(emulator.base_url) as client:
        session = Session(
            settings(tmp_path, sandbox_mode="read-only"), SessionDeps(client, sandbox=NO_SANDBOX)
        )
        events = await run(session, f"run `touch {target}`")
        again = await run(session, f"run `touch {target}`")
    warnings = [e for e in events + again if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "no OS sandbox" in warnings[0].message
    assert any(isinstance(e, CommandRejected) for e in events)
    assert not any(isinstance(e, CommandStarted) for e in events)
    assert not target.exists()
    assert outputs_sent(emulator)[-1].startswith("command not run:")
    assert isinstance(events[-1], TurnCompleted)


async def test_without_a_sandbox_a_read_only_command_runs_and_the_user_is_warned_once(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("note-body\n")
    async with make_client(emulator.base_url) as client:
        session = Session(
            settings(tmp_path, sandbox_mode="read-only"), SessionDeps(client, sandbox=NO_SANDBOX)
        )
        events = await run(session, "run `cat notes.txt`")
        again = await run(session, "run `cat notes.txt`")
    warnings = [e for e in events + again if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "no OS sandbox" in warnings[0].message
    assert [e for e in events if isinstance(e, WarningEvent)] == warnings
    finished = [e for e in events + again if isinstance(e, CommandFinished)]
    assert [e.output for e in finished] == ["note-body\n", "note-body\n"]


async def test_read_only_command_runs_without_approval(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path, sandbox_mode="read-only"), SessionDeps(client))
        events = await run(session, "run `ls`")
    finished = [e for e in events if isinstance(e, CommandFinished)]
    assert finished and "notes.txt" in finished[0].output


async def test_approver_decides_commands_that_need_approval(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    deny = RecordingApprover(False)
    await one_turn(
        emulator,
        settings(tmp_path, sandbox_mode="read-only", approval_policy="on-request"),
        "run `touch x`",
        approver=deny,
        sandbox=NO_SANDBOX,
    )
    assert len(deny.asked) == 1 and deny.asked[0].command[-1] == "touch x"
    assert "declined" in outputs_sent(emulator)[-1]


async def test_interrupt_stops_a_running_command(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    marker = tmp_path / "after-sleep"
    events: list[TurnEvent] = []
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        async for event in session.run_turn(f"run `sleep 30 && touch {marker}`"):
            events.append(event)
            if isinstance(event, CommandStarted):
                session.interrupt()
        assert isinstance(events[-1], TurnInterrupted)
        assert not any(isinstance(e, CommandFinished) for e in events)
        assert not marker.exists()
        # the session stays usable after an interrupt
        after = await run(session, "hello again")
    assert isinstance(after[-1], TurnCompleted)


async def test_server_error_fails_the_turn_with_the_error(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(Reply.status(400, body={"error": {"message": "bad input"}}))
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        events = await run(session, "hi")
    last = events[-1]
    assert isinstance(last, TurnFailed)
    assert isinstance(last.error, InvalidRequestError)


async def test_history_carries_over_to_the_next_turn(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        await run(session, "first question")
        await run(session, "second question")
    bodies = [r.body for r in emulator.requests_of("http")]
    texts = json.dumps(bodies[1]["input"])
    assert "first question" in texts and "second question" in texts
    assert session.total_usage.input_tokens > 0


async def _require_sandbox() -> None:
    import pytest

    support = await detect_sandbox()
    if not support.available:
        pytest.skip(f"no OS sandbox here: {support.reason}")


async def test_read_only_sandbox_runs_the_command_but_blocks_the_write(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    await _require_sandbox()
    target = tmp_path / "created.txt"
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path, sandbox_mode="read-only"), SessionDeps(client))
        events = await run(session, f"run `touch {target}`")
    finished = [e for e in events if isinstance(e, CommandFinished)]
    assert finished and finished[0].exit_code != 0
    assert not target.exists()


async def test_workspace_write_allows_the_workspace_and_nothing_outside(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    await _require_sandbox()
    import shutil
    import tempfile

    workspace = tmp_path / "ws"
    workspace.mkdir()
    # /tmp is writable under workspace-write, so "outside" must live elsewhere.
    elsewhere = Path(tempfile.mkdtemp(prefix="codex-engine-test-", dir="/var/tmp"))
    outside = elsewhere / "outside.txt"
    try:
        async with make_client(emulator.base_url) as client:
            session = Session(
                settings(workspace, sandbox_mode="workspace-write"), SessionDeps(client)
            )
            inside_events = await run(session, "run `touch inside.txt`")
            outside_events = await run(session, f"run `touch {outside}`")
    finally:
        created = outside.exists()
        shutil.rmtree(elsewhere, ignore_errors=True)
    inside = [e for e in inside_events if isinstance(e, CommandFinished)]
    assert inside and inside[0].exit_code == 0 and (workspace / "inside.txt").exists()
    blocked = [e for e in outside_events if isinstance(e, CommandFinished)]
    assert blocked and blocked[0].exit_code != 0 and not created


async def test_interrupt_right_after_turn_started_ends_the_turn(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    events: list[TurnEvent] = []
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        async for event in session.run_turn("hello"):
            events.append(event)
            if len(events) == 1:
                session.interrupt()
    assert isinstance(events[-1], TurnInterrupted)


async def test_deltas_carry_the_item_id_of_their_message(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        events = await run(session, "hello")
    started = [e for e in events if isinstance(e, ItemStarted)]
    deltas = [e for e in events if isinstance(e, AgentMessageDelta)]
    assert started and deltas
    assert {d.item_id for d in deltas} == {started[0].item.id}


async def test_settings_change_between_turns_adds_a_new_environment_context(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        await run(session, "first")
        session.update_settings(SettingsChange(cwd=other, sandbox_mode="read-only"))
        await run(session, "second")
    last_input = emulator.requests_of("http")[-1].body["input"]
    contexts = [json.dumps(i) for i in last_input if "<environment_context>" in json.dumps(i)]
    assert len(contexts) == 2 and str(other) in contexts[1] and "read-only" in contexts[1]
    assert emulator.requests_of("http")[-1].body["instructions"] == "You are a test agent."


def _call_event(call_id: str, script: str, index: int) -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "output_index": index,
        "item": {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": "shell",
            "arguments": json.dumps({"command": ["bash", "-c", script], "timeout_ms": 10_000}),
        },
    }


async def test_parallel_tool_calls_run_at_the_same_time_when_the_model_allows(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    # Each command waits for the other's marker file: they can only both succeed if they run
    # concurrently (sequentially, the first one would time out).
    a, b = tmp_path / "a", tmp_path / "b"
    first = f"touch {a}; for i in $(seq 500); do [ -f {b} ] && exit 0; sleep 0.01; done; exit 1"
    second = f"touch {b}; for i in $(seq 500); do [ -f {a} ] && exit 0; sleep 0.01; done; exit 1"
    emulator.enqueue(
        Reply.events(
            [
                {"type": "response.created", "response": {"id": "resp_p"}},
                _call_event("call_a", first, 0),
                _call_event("call_b", second, 1),
                {"type": "response.completed", "response": {"id": "resp_p", "usage": {}}},
            ]
        )
    )
    info, _ = find_model_info("gpt-5.1-codex")
    parallel = settings(
        tmp_path,
        model_info=msgspec.structs.replace(info, supports_parallel_tool_calls=True),
        unified_exec=False,  # the calls are `shell` calls
    )
    async with make_client(emulator.base_url) as client:
        session = Session(parallel, SessionDeps(client))
        events = await run(session, "two at once")
    finished = {e.call_id: e.exit_code for e in events if isinstance(e, CommandFinished)}
    assert finished == {"call_a": 0, "call_b": 0}
    follow_up = emulator.requests_of("http")[-1].body
    assert follow_up["parallel_tool_calls"] is True
    outputs = [i["call_id"] for i in follow_up["input"] if i["type"] == "function_call_output"]
    assert outputs == ["call_a", "call_b"]  # results go back in the order the model asked
