"""Thread goals through real pipes: the model's goal tools, ``thread/goal/*`` and their
notifications, persistence across resume and fork; every message checked against the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.app_server_start import Start
from tests.test_app_server import RawClient, start_thread, start_turn

REFERENCE_TOOLS = Path(__file__).with_name("reference") / "tools_0.163.json"
GOAL_TOOLS = ("get_goal", "create_goal", "update_goal")


def _offered(emulator: ResponsesEmulator, index: int = -1) -> dict[str, Any]:
    tools = emulator.requests_of("http")[index].body.get("tools", [])
    return {tool["name"]: tool for tool in tools if tool.get("name") in GOAL_TOOLS}


def _outputs(emulator: ResponsesEmulator) -> list[str]:
    return [
        item["output"]
        for request in emulator.requests_of("http")
        for item in request.body["input"]
        if item.get("type") == "function_call_output"
    ]


def _without_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_without_descriptions(v) for v in value]
    return value


def _goal_notes(client: RawClient, method: str) -> list[dict[str, Any]]:
    return [m["params"] for m in client.notifications if m["method"] == method]


async def test_the_model_creates_and_completes_a_goal_that_survives_resume_and_fork(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    # The user's turn creates the goal; as on 0.163, an active goal then continues in turns of
    # its own: the first tries to create another (refused), the second completes the goal.
    emulator.enqueue(
        Reply.function_call("create_goal", {"objective": "ship it", "token_budget": 100000}),
        Reply.text("goal set"),
        Reply.function_call("create_goal", {"objective": "another"}),
        Reply.text("x"),
        Reply.function_call("update_goal", {"status": "complete"}),
        Reply.text("done"),
    )
    turn = await start_turn(client, thread, "make shipping the goal")
    await client.turn_completed(turn)
    await client.wait_for(
        lambda m: (
            m["method"] == "thread/goal/updated" and m["params"]["goal"]["status"] == "complete"
        )
    )
    await client.wait_for(
        lambda _m: sum(1 for m in client.notifications if m["method"] == "turn/completed") >= 3
    )

    # Offered exactly as 0.163 offers them (descriptions are ours).
    reference = json.loads(REFERENCE_TOOLS.read_text())["models"]["gpt-5.5"]["tools"]
    expected = {t["name"]: t for t in reference if t.get("name") in GOAL_TOOLS}
    offered = _offered(emulator, 0)
    assert list(offered) == list(GOAL_TOOLS)
    assert {k: _without_descriptions(v) for k, v in offered.items()} == expected

    outputs = _outputs(emulator)
    created = json.loads(outputs[0])
    assert created["goal"]["objective"] == "ship it" and created["goal"]["status"] == "active"
    assert created["remainingTokens"] == 100000 and created["goal"]["threadId"] == thread
    updates = _goal_notes(client, "thread/goal/updated")
    assert updates[0]["turnId"] == turn and updates[0]["goal"]["objective"] == "ship it"
    assert any("already has an unfinished goal" in output for output in outputs)
    completed = json.loads(outputs[-1])
    assert completed["goal"]["status"] == "complete"
    assert completed["completionBudgetReport"].startswith("Goal complete.")
    assert f"of {100000}" in completed["completionBudgetReport"]
    # Each turn's tokens were charged to the goal while it was active.
    goal = (await client.result("thread/goal/get", {"threadId": thread}))["goal"]
    assert goal["tokensUsed"] > 0 and goal["status"] == "complete"

    # Recorded in the rollout: unloading and resuming keeps it; a fork inherits it.
    await client.result("thread/unsubscribe", {"threadId": thread})
    await client.wait_for(
        lambda m: (
            m["method"] == "thread/status/changed"
            and m["params"]["status"] == {"type": "notLoaded"}
        )
    )
    await client.result("thread/resume", {"threadId": thread})
    resumed = (await client.result("thread/goal/get", {"threadId": thread}))["goal"]
    assert resumed["objective"] == "ship it" and resumed["status"] == "complete"
    fork = (await client.result("thread/fork", {"threadId": thread}))["thread"]["id"]
    inherited = (await client.result("thread/goal/get", {"threadId": fork}))["goal"]
    assert inherited["objective"] == "ship it" and inherited["threadId"] == fork


async def test_clients_set_pause_and_clear_a_goal(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    assert await client.result("thread/goal/get", {"threadId": thread}) == {"goal": None}
    refused = await client.error("thread/goal/set", {"threadId": thread, "status": "paused"})
    assert "no goal to update" in refused["message"]
    bad = await client.error(
        "thread/goal/set", {"threadId": thread, "objective": "x", "tokenBudget": 0}
    )
    assert "tokenBudget" in bad["message"]
    blank = await client.error("thread/goal/set", {"threadId": thread, "objective": "  "})
    assert "objective" in blank["message"]

    # As 0.163: an active goal on an idle thread starts a goal-continuation turn by itself.
    emulator.enqueue(Reply.text("on it"))
    made = await client.result(
        "thread/goal/set", {"threadId": thread, "objective": " tidy up ", "tokenBudget": 500}
    )
    assert made["goal"]["objective"] == "tidy up" and made["goal"]["tokenBudget"] == 500
    continuation = await client.wait_for(lambda m: m["method"] == "turn/started")
    await client.turn_completed(continuation["params"]["turn"]["id"])
    paused = await client.result("thread/goal/set", {"threadId": thread, "status": "paused"})
    assert paused["goal"]["status"] == "paused" and paused["goal"]["tokenBudget"] == 500
    unbudgeted = await client.result("thread/goal/set", {"threadId": thread, "tokenBudget": None})
    assert unbudgeted["goal"]["tokenBudget"] is None
    # The client's changes (the continuation turn's usage is charged in a note naming it).
    notes = [n for n in _goal_notes(client, "thread/goal/updated") if n["turnId"] is None]
    assert [n["goal"]["status"] for n in notes] == ["active", "paused", "paused"]

    # The model reads what the client set.
    emulator.enqueue(Reply.function_call("get_goal", {}), Reply.text("ok"))
    await client.turn_completed(await start_turn(client, thread, "what is the goal?"))
    seen = json.loads(_outputs(emulator)[-1])
    assert seen["goal"]["objective"] == "tidy up" and seen["remainingTokens"] is None

    assert await client.result("thread/goal/clear", {"threadId": thread}) == {"cleared": True}
    assert _goal_notes(client, "thread/goal/cleared") == [{"threadId": thread}]
    assert await client.result("thread/goal/clear", {"threadId": thread}) == {"cleared": False}
    assert await client.result("thread/goal/get", {"threadId": thread}) == {"goal": None}
    missing = await client.error("thread/goal/get", {"threadId": "nope"})
    assert "not loaded" in missing["message"]


async def test_a_budget_used_up_limits_the_goal(start: Start, emulator: ResponsesEmulator) -> None:
    client = await start()
    thread = await start_thread(client)
    await client.result("thread/goal/set", {"threadId": thread, "objective": "x", "tokenBudget": 1})
    await client.turn_completed(await start_turn(client, thread, "work"))
    goal = (await client.result("thread/goal/get", {"threadId": thread}))["goal"]
    assert goal["status"] == "budgetLimited" and goal["tokensUsed"] >= 1


async def test_ephemeral_threads_and_the_disabled_feature_offer_no_goal_tools(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    ephemeral = await start_thread(client, ephemeral=True)
    await client.turn_completed(await start_turn(client, ephemeral, "hi"))
    assert _offered(emulator) == {}
    for method, params in (
        ("thread/goal/set", {"threadId": ephemeral, "objective": "x"}),
        ("thread/goal/get", {"threadId": ephemeral}),
        ("thread/goal/clear", {"threadId": ephemeral}),
    ):
        refused = await client.error(method, params)
        assert "ephemeral" in refused["message"] and refused["code"] == -32600

    off = await start("-c", "features.goals=false")
    thread = await start_thread(off)
    await off.turn_completed(await start_turn(off, thread, "hi"))
    assert _offered(emulator) == {}
    disabled = await off.error("thread/goal/set", {"threadId": thread, "objective": "x"})
    assert "features" in disabled["message"]


async def test_the_sdk_sets_pauses_and_clears_a_goal(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    openai_codex = pytest.importorskip("openai_codex")
    from openai_codex.generated.v2_all import ThreadGoalStatus

    from tests.sdk_support import sdk_client

    workdir = tmp_path / "work"
    workdir.mkdir()
    async with sdk_client(emulator, codex_home, workdir) as (codex, wire):
        thread = await codex.thread_start()
        client = codex._client
        assert isinstance(codex, openai_codex.AsyncCodex)
        made = await client.thread_goal_set(
            thread.id, objective="write the docs", status=ThreadGoalStatus.active
        )
        assert made.goal.objective == "write the docs" and made.goal.status.value == "active"
        paused = await client.pause_goal(thread.id)
        assert paused.goal.status.value == "paused" and paused.goal.thread_id == thread.id
        assert (await client.thread_goal_clear(thread.id)).cleared is True
        assert (await client.thread_goal_clear(thread.id)).cleared is False
    notes = [m["method"] for m in wire.load().of("server") if "goal" in m.get("method", "")]
    assert notes == ["thread/goal/updated", "thread/goal/updated", "thread/goal/cleared"]
