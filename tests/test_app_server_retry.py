"""A stream that breaks off mid-answer and is retried, as an app-server client sees it.

The emulator drops the first response after a few events (``drop_after``); the retry answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.test_app_server import Json, RawClient, start_thread, start_turn

FIRST = "alpha beta gamma delta epsilon zeta"
# response.created, response.in_progress, output_item.added, content_part.added, then words.
DROP_AFTER_TWO_WORDS = 6


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        await raw.initialize()
        yield raw
    finally:
        assert await raw.close() == 0
    assert raw.schema_errors() == []


async def _retried_turn(client: RawClient, emulator: ResponsesEmulator, second: str) -> list[Json]:
    thread_id = await start_thread(client)
    emulator.enqueue(Reply.text(FIRST, drop_after=DROP_AFTER_TWO_WORDS), Reply.text(second))
    turn_id = await start_turn(client, thread_id, "answer me")
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    # The turn's notifications, and warnings (which name the thread only), in order.
    return [
        n
        for n in client.notifications
        if n in client.of_turn(turn_id)
        or (n["method"] == "warning" and n["params"].get("threadId") == thread_id)
    ]


def _agent_messages(notes: list[Json], method: str) -> list[Json]:
    return [
        n["params"]["item"]
        for n in notes
        if n["method"] == method and n["params"]["item"]["type"] == "agentMessage"
    ]


async def test_a_diverging_retry_is_flagged_and_item_completed_has_the_final_text(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    second = "one two three four"
    notes = await _retried_turn(client, emulator, second)
    methods = [n["method"] for n in notes]
    retry = methods.index("error")
    assert notes[retry]["params"]["willRetry"] is True
    deltas = [n["params"]["delta"] for n in notes if n["method"] == "item/agentMessage/delta"]
    before = [n for n in notes[:retry] if n["method"] == "item/agentMessage/delta"]
    assert "".join(n["params"]["delta"] for n in before) == "alpha beta "
    # The deltas went on after what was already sent: a splice of both answers.
    assert "".join(deltas) != second
    (completed,) = _agent_messages(notes, "item/completed")
    assert completed["text"] == second
    # The client is told, before item/completed, which item's deltas to replace.
    warning = next(n for n in notes if n["method"] == "warning")
    assert completed["id"] in warning["params"]["message"]
    assert methods.index("warning") < methods.index("item/completed", retry)
    # Every delta, both attempts, belongs to that one item.
    items = {n["params"]["itemId"] for n in notes if n["method"] == "item/agentMessage/delta"}
    assert items == {completed["id"]}
    (summary,) = [
        item
        for n in notes
        if n["method"] == "turn/completed"
        for item in n["params"]["turn"]["items"]
        if item["type"] == "agentMessage"
    ]
    assert summary["text"] == second


async def test_a_retry_that_repeats_the_answer_streams_it_once_without_a_warning(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    notes = await _retried_turn(client, emulator, FIRST)
    assert [n["params"]["willRetry"] for n in notes if n["method"] == "error"] == [True]
    deltas = [n["params"]["delta"] for n in notes if n["method"] == "item/agentMessage/delta"]
    assert "".join(deltas) == FIRST
    (completed,) = _agent_messages(notes, "item/completed")
    assert completed["text"] == FIRST
    assert not [n for n in notes if n["method"] == "warning"]
