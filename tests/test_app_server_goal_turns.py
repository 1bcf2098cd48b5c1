"""Goal-continuation turns: an active goal on an idle thread starts a turn by itself and keeps
going turn after turn until the goal is complete, blocked, paused or out of budget — driven with
the official SDK's goal operation (sync and async) and through raw pipes, every message checked
against the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.app_server_start import Start
from tests.sdk_support import run_sync_sdk, sdk_client
from tests.test_app_server import RawClient, start_thread, start_turn

openai_codex = pytest.importorskip("openai_codex")
from openai_codex._goal import (  # noqa: E402  (the SDK's own goal stream)
    _AsyncGoalNotificationStream,
    _GoalNotificationStream,
)
from openai_codex.generated.v2_all import ThreadGoalGetResponse  # noqa: E402

GOAL_CONTEXT = '<codex_internal_context source="goal">'


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _last_inputs(emulator: ResponsesEmulator) -> list[dict[str, Any]]:
    """The last input item of every model request."""
    return [request.body["input"][-1] for request in emulator.requests_of("http")]


def _continuation_texts(emulator: ResponsesEmulator) -> list[str]:
    return [
        item["content"][0]["text"]
        for item in _last_inputs(emulator)
        if item.get("type") == "message" and item.get("role") == "user"
    ]


def _started(client: RawClient) -> list[str]:
    return [
        m["params"]["turn"]["id"] for m in client.notifications if m["method"] == "turn/started"
    ]


async def _nth_started(client: RawClient, n: int) -> str:
    """The id of the ``n``-th (from 1) turn/started, waiting for it."""
    await client.wait_for(lambda _m: len(_started(client)) >= n)
    return _started(client)[n - 1]


def _script_two_turns(emulator: ResponsesEmulator) -> None:
    # Turn 1 leaves the goal active (so a continuation follows); turn 2 completes it.
    emulator.enqueue(
        Reply.text("first step done"),
        Reply.function_call("update_goal", {"status": "complete"}),
        Reply.text("all done"),
    )


def _check_continuations(emulator: ResponsesEmulator) -> None:
    requests = emulator.requests_of("http")
    assert len(requests) == 3
    texts = _continuation_texts(emulator)
    assert len(texts) == 2  # one hidden continuation message opens each of the two turns
    for text in texts:
        assert text.startswith(GOAL_CONTEXT)
        assert "<objective>\nwrite hello\n</objective>" in text
        assert "- Token budget: none" in text
    # The second continuation reports what the first turn spent.
    assert "- Tokens used: 0\n" in texts[0]
    assert "- Tokens used: 0\n" not in texts[1]


def _run_goal_sync(codex: Any) -> tuple[list[str], str, str]:
    client = codex._client
    thread = codex.thread_start()
    state, turn_id = client.start_goal_operation(thread.id, "write hello")
    stream = _GoalNotificationStream(
        state,
        lambda: client.next_goal_notification(state),
        lambda: client.unregister_goal_operation(state),
        lambda: client.cancel_goal_operation(state),
    )
    methods = [note.method for note in stream]
    goal = client.request(
        "thread/goal/get", {"threadId": thread.id}, response_model=ThreadGoalGetResponse
    ).goal
    return methods, turn_id, goal.status.value


async def test_sdk_goal_operation_runs_continuation_turns_until_complete_sync(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    _script_two_turns(emulator)
    methods, turn_id, status = await run_sync_sdk(emulator, codex_home, workdir, _run_goal_sync)
    # One logical turn for the SDK: started once, completed once, the agent's messages between.
    assert methods[0] == "turn/started" and methods[-1] == "turn/completed"
    assert methods.count("turn/started") == 1 and methods.count("turn/completed") == 1
    assert methods.count("item/completed") == 2
    assert turn_id and status == "complete"
    _check_continuations(emulator)


async def test_sdk_goal_operation_runs_continuation_turns_until_complete_async(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    _script_two_turns(emulator)
    async with sdk_client(emulator, codex_home, workdir) as (codex, _log):
        client = codex._client
        thread = await codex.thread_start()
        state, turn_id = await client.start_goal_operation(thread.id, "write hello")
        stream = _AsyncGoalNotificationStream(
            state,
            lambda: client.next_goal_notification(state),
            lambda: client.unregister_goal_operation(state),
            lambda: client.cancel_goal_operation(state),
        )
        completed = [note.payload async for note in stream][-1]
        assert completed.turn.id == turn_id
        assert completed.turn.status.value == "completed"
    _check_continuations(emulator)


async def test_goal_set_on_an_idle_thread_starts_a_hidden_continuation_turn(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    emulator.enqueue(Reply.function_call("update_goal", {"status": "blocked"}), Reply.text("stuck"))
    await client.result(
        "thread/goal/set", {"threadId": thread, "objective": "write hello", "status": "active"}
    )
    turn = await _nth_started(client, 1)
    completed = await client.turn_completed(turn)
    # The continuation message is read by the model but shown to no one.
    assert [item["type"] for item in completed["items"]] == ["agentMessage"]
    assert _continuation_texts(emulator)[0].startswith(GOAL_CONTEXT)
    read = await client.result("thread/read", {"threadId": thread, "includeTurns": True})
    assert [[i["type"] for i in t["items"]] for t in read["thread"]["turns"]] == [["agentMessage"]]
    assert read["thread"]["preview"] == "write hello"
    # A blocked goal stops the run: no further turn is started.
    await client.result("thread/goal/get", {"threadId": thread})
    assert len(emulator.requests_of("http")) == 2
    assert _started(client) == [turn]
    # Read back from the rollout by a new server: the same turn, the hidden message unshown.
    assert await client.close() == 0
    again = await start()
    stored = await again.result("thread/read", {"threadId": thread, "includeTurns": True})
    assert [(t["id"], [i["type"] for i in t["items"]]) for t in stored["thread"]["turns"]] == [
        (turn, ["agentMessage"])
    ]


async def test_an_exhausted_budget_stops_the_run(start: Start, emulator: ResponsesEmulator) -> None:
    client = await start()
    thread = await start_thread(client)
    emulator.enqueue(Reply.text("spent it all"))
    await client.result(
        "thread/goal/set",
        {"threadId": thread, "objective": "write hello", "status": "active", "tokenBudget": 1},
    )
    await client.turn_completed(await _nth_started(client, 1))
    goal = (await client.result("thread/goal/get", {"threadId": thread}))["goal"]
    assert goal["status"] == "budgetLimited"
    assert len(emulator.requests_of("http")) == 1
    assert len(_started(client)) == 1


async def test_a_paused_or_inactive_goal_starts_nothing_and_interrupt_pauses(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    await client.result(
        "thread/goal/set", {"threadId": thread, "objective": "write hello", "status": "paused"}
    )
    # An ordinary turn while the goal is paused: no continuation after it.
    emulator.enqueue(Reply.text("hi"))
    await client.turn_completed(await start_turn(client, thread, "hello"))
    assert len(emulator.requests_of("http")) == 1
    assert len(_started(client)) == 1

    # Resuming starts the run; interrupting its turn pauses the goal and ends the run.
    emulator.enqueue(Reply.text("slow", first_event_delay=30))
    await client.result("thread/goal/set", {"threadId": thread, "status": "active"})
    turn = await _nth_started(client, 2)
    await client.result("turn/interrupt", {"threadId": thread, "turnId": turn})
    completed = await client.turn_completed(turn)
    assert completed["status"] == "interrupted"
    goal = (await client.result("thread/goal/get", {"threadId": thread}))["goal"]
    assert goal["status"] == "paused"
    assert len(_started(client)) == 2
