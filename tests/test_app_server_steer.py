"""``turn/steer`` and a ``turn/start`` that joins a running turn, over raw JSON-RPC (every
message validated against the reference schema), as codex 0.163 answers them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.test_app_server import RawClient, start_thread, start_turn

Json = dict[str, Any]


def text(value: str) -> list[Json]:
    return [{"type": "text", "text": value, "text_elements": []}]


def waiting_call(workdir: Path) -> Reply:
    """A shell call that runs until the test creates ``go`` in the work directory."""
    script = "while [ ! -e go ]; do sleep 0.02; done; echo released"
    return Reply.function_call(
        "shell", {"command": ["bash", "-c", script], "workdir": str(workdir)}
    )


def user_texts(body: Json) -> list[str]:
    """The texts of the user messages after the session prefix, in order."""
    texts = []
    for item in body["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            text_of = "".join(p.get("text", "") for p in item["content"])
            if not text_of.startswith("<"):
                texts.append(text_of)
    return texts


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[RawClient]:
    # The waiting call is a `shell` call: these threads keep the shell tool (unified exec off).
    raw = await RawClient.start(codex_home, workdir, emulator, "-c", "features.unified_exec=false")
    try:
        await raw.initialize()
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


async def test_steer_is_refused_as_the_reference_refuses_it(
    client: RawClient, emulator: ResponsesEmulator, workdir: Path
) -> None:
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    params = {"threadId": thread_id, "expectedTurnId": "t-1", "input": text("more")}
    idle = await client.error("turn/steer", params)
    assert (idle["code"], idle["message"]) == (-32600, "no active turn to steer")
    # Between turns an empty input is still "no active turn" (the reference checks that first).
    idle_empty = await client.error("turn/steer", {**params, "input": []})
    assert idle_empty["message"] == "no active turn to steer"
    ghost = await client.error("turn/steer", {**params, "threadId": "no-such-thread"})
    assert ghost["code"] == -32600 and "no-such-thread" in ghost["message"]

    emulator.enqueue(waiting_call(workdir), Reply.text("done"))
    turn_id = await start_turn(client, thread_id, "work")
    await client.wait_for(
        lambda m: (
            m["method"] == "item/started" and m["params"]["item"]["type"] == "commandExecution"
        )
    )
    wrong = await client.error("turn/steer", {**params, "expectedTurnId": "nope"})
    assert (wrong["code"], wrong["message"]) == (
        -32600,
        f"expected active turn id `nope` but found `{turn_id}`",
    )
    empty = await client.error("turn/steer", {**params, "expectedTurnId": turn_id, "input": []})
    assert (empty["code"], empty["message"]) == (-32600, "input must not be empty")
    remote = await client.error(
        "turn/steer",
        {**params, "expectedTurnId": turn_id, "input": [{"type": "image", "url": "https://x/y"}]},
    )
    assert remote["message"] == (
        "remote image URLs are not supported; use an inline data URL instead"
    )
    (workdir / "go").touch()
    assert (await client.turn_completed(turn_id))["status"] == "completed"
    # Nothing was steered in: the follow-up request carries the original message only.
    assert user_texts(emulator.requests_of("http")[-1].body) == ["work"]


async def test_steered_input_joins_the_next_request_after_the_tool_round(
    client: RawClient, emulator: ResponsesEmulator, workdir: Path, codex_home: Path
) -> None:
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    emulator.enqueue(waiting_call(workdir), Reply.text("took both into account"))
    turn_id = await start_turn(client, thread_id, "first ask")
    await client.wait_for(
        lambda m: (
            m["method"] == "item/started" and m["params"]["item"]["type"] == "commandExecution"
        )
    )
    answer = await client.result(
        "turn/steer",
        {
            "threadId": thread_id,
            "expectedTurnId": turn_id,
            "input": text("also this"),
            "clientUserMessageId": "client-7",
        },
    )
    assert answer == {"turnId": turn_id}
    # The steered message is shown at once, as an item of the running turn.
    steered = [
        m["params"]
        for m in client.of_turn(turn_id)
        if m["method"] in ("item/started", "item/completed")
        and m["params"]["item"]["type"] == "userMessage"
    ]
    assert [s["item"]["content"] for s in steered][-2:] == [text("also this")] * 2
    assert steered[-1]["item"]["clientId"] == "client-7"
    # A turn/start on the running turn joins it: same turn, its input steered in too.
    joined = await client.result("turn/start", {"threadId": thread_id, "input": text("and that")})
    assert joined["turn"]["id"] == turn_id and joined["turn"]["status"] == "inProgress"
    (workdir / "go").touch()
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    # The summary lists what the model did, not the user's messages.
    assert [i["type"] for i in turn["items"]] == ["commandExecution", "agentMessage"]
    first, second = (r.body for r in emulator.requests_of("http"))
    assert user_texts(first) == ["first ask"]
    assert user_texts(second) == ["first ask", "also this", "and that"]
    kinds = [i.get("type") for i in second["input"]]
    # The tool's output comes first, then the steered messages.
    assert kinds[-3:] == ["function_call_output", "message", "message"]
    assert len([m for m in client.notifications if m["method"] == "turn/started"]) == 1

    expected = ["userMessage", "commandExecution", "userMessage", "userMessage", "agentMessage"]
    read = await client.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    (live,) = read["thread"]["turns"]
    assert [i["type"] for i in live["items"]] == expected
    # From the rollout (a fresh server), the same turn with the same user messages.
    fresh = await RawClient.start(codex_home, workdir, emulator)
    try:
        await fresh.initialize()
        stored = await fresh.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    finally:
        assert await fresh.close() == 0
    assert fresh.schema_errors() == []
    (recorded,) = stored["thread"]["turns"]
    assert [i["type"] for i in recorded["items"]] == expected
    users = [i["content"] for i in recorded["items"] if i["type"] == "userMessage"]
    assert users == [text("first ask"), text("also this"), text("and that")]


async def test_input_steered_while_the_model_finishes_starts_a_follow_up_request(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread_id = await start_thread(client)
    # The model takes a moment to answer; the steer arrives before it has.
    emulator.enqueue(Reply.text("first answer", first_event_delay=1.5), Reply.text("second"))
    turn_id = await start_turn(client, thread_id, "question")
    await emulator.wait_for_request("http")
    await client.result(
        "turn/steer", {"threadId": thread_id, "expectedTurnId": turn_id, "input": text("more")}
    )
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    first, second = (r.body for r in emulator.requests_of("http"))
    assert user_texts(first) == ["question"]
    assert user_texts(second) == ["question", "more"]
    assert json.dumps(second["input"]).count("first answer") == 1
    assert [i["text"] for i in turn["items"]] == ["first answer", "second"]


async def test_a_tool_output_joins_a_running_turn(
    client: RawClient, emulator: ResponsesEmulator, workdir: Path
) -> None:
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    emulator.enqueue(waiting_call(workdir), Reply.text("read the peer's note"))
    turn_id = await start_turn(client, thread_id, "work")
    await client.wait_for(
        lambda m: (
            m["method"] == "item/started" and m["params"]["item"]["type"] == "commandExecution"
        )
    )
    joined = await client.result(
        "turn/start",
        {"threadId": thread_id, "input": [], "toolOutput": {"name": "peer", "output": "hi"}},
    )
    assert joined["turn"]["id"] == turn_id
    shown = await client.wait_for(
        lambda m: (
            m["method"] == "item/completed" and m["params"]["item"]["type"] == "functionCallOutput"
        )
    )
    assert shown["params"]["turnId"] == turn_id and shown["params"]["item"]["name"] == "peer"
    (workdir / "go").touch()
    assert (await client.turn_completed(turn_id))["status"] == "completed"
    last = emulator.requests_of("http")[-1].body["input"][-1]
    assert (last["type"], last["name"], last["output"]) == ("function_call_output", "peer", "hi")


async def test_a_joining_turn_start_changes_settings_for_the_turns_after(
    client: RawClient, emulator: ResponsesEmulator, workdir: Path
) -> None:
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    emulator.enqueue(waiting_call(workdir), Reply.text("done"))
    turn_id = await start_turn(client, thread_id, "work")
    await client.wait_for(
        lambda m: (
            m["method"] == "item/started" and m["params"]["item"]["type"] == "commandExecution"
        )
    )
    first_model = emulator.requests_of("http")[0].body["model"]
    assert first_model != "gpt-5.5"
    joined = await client.result(
        "turn/start", {"threadId": thread_id, "input": text("also"), "model": "gpt-5.5"}
    )
    assert joined["turn"]["id"] == turn_id
    (workdir / "go").touch()
    assert (await client.turn_completed(turn_id))["status"] == "completed"
    # The running turn kept its model; the next turn uses the one the joining call asked for.
    assert emulator.requests_of("http")[1].body["model"] == first_model
    next_turn = await start_turn(client, thread_id, "next")
    assert (await client.turn_completed(next_turn))["status"] == "completed"
    # gpt-5.5 prefers WebSockets, so its request may come over either transport.
    (last,) = [r for r in emulator.requests if r.kind in ("http", "ws_message")][2:]
    assert last.body["model"] == "gpt-5.5"
