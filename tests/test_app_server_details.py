"""The detail notifications of a turn over real pipes: raw reasoning text, summary part
boundaries, and a model reroute (with its warning), over HTTP and over WebSocket.

Every message the server writes is validated against the reference schema by the fixture.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.test_app_server import Json, RawClient, start_thread, start_turn

REQUESTED = "gpt-5.3-codex"
SERVED = "gpt-5.2"

_WEBSOCKET = ("-c", "model_providers.emulator.supports_websockets=true")


@pytest.fixture(params=["http", "websocket"])
async def client(
    request: pytest.FixtureRequest, emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    extra = _WEBSOCKET if request.param == "websocket" else ()
    raw = await RawClient.start(codex_home, tmp_path, emulator, *extra)
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


def _of(events: list[Json], method: str) -> list[Json]:
    return [m["params"] for m in events if m["method"] == method]


async def test_reasoning_streams_its_raw_text_and_summary_parts(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    emulator.enqueue(
        Reply.text(
            "done",
            reasoning_summary=("First I look.", "Then I answer."),
            reasoning_text=("raw step one", "raw step two"),
        )
    )
    await client.initialize()
    thread_id = await start_thread(client)
    turn_id = await start_turn(client, thread_id, "think")
    await client.turn_completed(turn_id)
    events = client.of_turn(turn_id)

    started = [p["item"] for p in _of(events, "item/started") if p["item"]["type"] == "reasoning"]
    assert len(started) == 1
    item_id = started[0]["id"]
    parts = _of(events, "item/reasoning/summaryPartAdded")
    assert [(p["itemId"], p["summaryIndex"]) for p in parts] == [(item_id, 0), (item_id, 1)]
    summary = _of(events, "item/reasoning/summaryTextDelta")
    by_part = {
        index: "".join(d["delta"] for d in summary if d["summaryIndex"] == index)
        for index in (0, 1)
    }
    assert by_part == {0: "First I look.", 1: "Then I answer."}
    raw = _of(events, "item/reasoning/textDelta")
    assert {d["itemId"] for d in raw} == {item_id}
    assert "".join(d["delta"] for d in raw if d["contentIndex"] == 1) == "raw step two"
    done = next(
        p["item"] for p in _of(events, "item/completed") if p["item"]["type"] == "reasoning"
    )
    assert done == {
        "type": "reasoning",
        "id": item_id,
        "summary": ["First I look.", "Then I answer."],
        "content": ["raw step one", "raw step two"],
    }


async def test_an_answer_from_another_model_reports_a_reroute_once_and_warns(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    emulator.enqueue(
        Reply.function_call("exec_command", {"cmd": "true"}, served_model=SERVED),
        Reply.text("done", served_model=SERVED),
        Reply.text("same model again"),
    )
    await client.initialize()
    thread_id = await start_thread(client, model=REQUESTED, approvalPolicy="never")
    turn_id = await start_turn(client, thread_id, "do it")
    await client.turn_completed(turn_id)
    events = client.of_turn(turn_id)
    rerouted = _of(events, "model/rerouted")
    assert rerouted == [
        {
            "threadId": thread_id,
            "turnId": turn_id,
            "fromModel": REQUESTED,
            "toModel": SERVED,
            "reason": "highRiskCyberActivity",
        }
    ]
    warnings = [
        m["params"]["message"]
        for m in client.notifications
        if m["method"] == "warning" and m["params"].get("threadId") == thread_id
    ]
    assert any(REQUESTED in w and SERVED in w for w in warnings)

    # A turn answered by the requested model reports nothing.
    second = await start_turn(client, thread_id, "again")
    await client.turn_completed(second)
    assert _of(client.of_turn(second), "model/rerouted") == []
