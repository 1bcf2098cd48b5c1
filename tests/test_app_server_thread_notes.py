"""Thread notifications where 0.163 sends them: ``thread/settings/updated`` before the answer to
a ``turn/start`` that changes settings (and only then), no deprecated ``thread/compacted`` after
a compaction, and ``historyMode: "paginated"`` with a ``deprecationNotice`` for a whole-history
read; every message checked against the schema."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.test_app_server import RawClient, start_thread, start_turn


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, tmp_path, emulator)
    await raw.initialize()
    yield raw
    with contextlib.suppress(ProcessLookupError):
        assert await raw.close() == 0
    assert raw.schema_errors() == []


def _settings_notes(client: RawClient) -> list[dict[str, Any]]:
    return [m["params"] for m in client.notifications if m["method"] == "thread/settings/updated"]


async def test_settings_updated_precedes_the_answer_of_a_changing_turn_start(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread = await start_thread(client)
    emulator.enqueue(Reply.text("one"), Reply.text("two"))
    params = {
        "threadId": thread,
        "input": [{"type": "text", "text": "a"}],
        "model": "gpt-5.4",
        "effort": "high",
    }
    turn = (await client.result("turn/start", params))["turn"]["id"]
    await client.turn_completed(turn)
    [note] = _settings_notes(client)
    assert note["threadId"] == thread
    settings = note["threadSettings"]
    assert settings["model"] == "gpt-5.4" and settings["effort"] == "high"
    assert settings["collaborationMode"]["mode"] == "default"
    assert settings["sandboxPolicy"]["type"] == "readOnly"
    # Sent before the answer to that turn/start.
    order = [m.get("method") or ("answer" if "result" in m else "") for m in client.received]
    assert order.index("thread/settings/updated") < order.index("turn/started")
    # A turn/start that changes nothing announces nothing.
    await client.turn_completed(await start_turn(client, thread, "b"))
    assert len(_settings_notes(client)) == 1


async def test_compaction_sends_no_deprecated_thread_compacted(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread = await start_thread(client)
    emulator.enqueue(Reply.text("one"), Reply.text("summary"))
    await client.turn_completed(await start_turn(client, thread, "a"))
    await client.result("thread/compact/start", {"threadId": thread})
    compaction = await client.wait_for(
        lambda m: (
            m["method"] == "item/completed" and m["params"]["item"]["type"] == "contextCompaction"
        )
    )
    await client.turn_completed(compaction["params"]["turnId"])
    assert [m for m in client.notifications if m["method"] == "thread/compacted"] == []


async def test_threads_are_paginated_and_a_whole_read_is_deprecated(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread = await start_thread(client)
    emulator.enqueue(Reply.text("one"))
    await client.turn_completed(await start_turn(client, thread, "a"))
    meta = await client.result("thread/read", {"threadId": thread})
    assert meta["thread"]["historyMode"] == "paginated"
    assert [m for m in client.notifications if m["method"] == "deprecationNotice"] == []
    whole = await client.result("thread/read", {"threadId": thread, "includeTurns": True})
    assert len(whole["thread"]["turns"]) == 1
    [notice] = [m["params"] for m in client.notifications if m["method"] == "deprecationNotice"]
    assert "thread/turns/list" in notice["summary"]
    # What "paginated" promises: the turns and items page.
    page = await client.result("thread/turns/list", {"threadId": thread})
    assert [t["id"] for t in page["data"]] == [t["id"] for t in whole["thread"]["turns"]]
