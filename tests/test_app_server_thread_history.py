"""Ephemeral forks, ``thread/turns/list``, ``thread/items/list`` and ``thread/inject_items``
through real pipes, every message checked against the reference schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.app_server_start import Start
from tests.test_app_server import RawClient, start_thread, start_turn


def _rollouts(codex_home: Path) -> set[Path]:
    return set((codex_home / "sessions").rglob("*.jsonl"))


def _texts(request_input: list[dict[str, Any]]) -> str:
    return "\n".join(
        part.get("text", "")
        for item in request_input
        if item.get("type") == "message"
        for part in item.get("content", [])
    )


async def _thread_with_turns(client: RawClient, *texts: str) -> tuple[str, list[str]]:
    thread = await start_thread(client)
    turns = []
    for text in texts:
        turn = await start_turn(client, thread, text)
        await client.turn_completed(turn)
        turns.append(turn)
    return thread, turns


async def test_an_ephemeral_fork_writes_no_rollout_and_continues_from_the_cut(
    start: Start, emulator: ResponsesEmulator, codex_home: Path
) -> None:
    client = await start()
    source, (first, _second) = await _thread_with_turns(client, "alpha one", "beta two")
    before = _rollouts(codex_home)
    forked = await client.result(
        "thread/fork", {"threadId": source, "ephemeral": True, "lastTurnId": first}
    )
    thread = forked["thread"]
    assert thread["ephemeral"] is True and thread["path"] is None
    assert thread["forkedFromId"] == source
    assert [t["id"] for t in thread["turns"]] == [first]
    started = await client.wait_for(
        lambda m: m["method"] == "thread/started" and m["params"]["thread"]["id"] == thread["id"]
    )
    assert started["params"]["thread"]["ephemeral"] is True

    # It runs turns like any thread, from the source's history through the cut.
    await client.turn_completed(await start_turn(client, thread["id"], "gamma three"))
    sent = _texts(emulator.requests_of("http")[-1].body["input"])
    assert "alpha one" in sent and "gamma three" in sent and "beta two" not in sent
    assert _rollouts(codex_home) == before
    read = await client.result("thread/read", {"threadId": thread["id"], "includeTurns": True})
    assert len(read["thread"]["turns"]) == 2 and read["thread"]["ephemeral"] is True
    listed = await client.result("thread/list", {})
    assert thread["id"] not in [t["id"] for t in listed["data"]]
    # As on the reference, only recorded history is paged.
    unpaged = await client.error("thread/turns/list", {"threadId": thread["id"]})
    assert "ephemeral" in unpaged["message"]
    # Nothing recorded, so nothing to fork from it.
    refused = await client.error("thread/fork", {"threadId": thread["id"]})
    assert "ephemeral" in refused["message"]


async def test_turns_and_items_page_both_ways_for_loaded_and_recorded_threads(
    start: Start,
) -> None:
    client = await start()
    thread, turns = await _thread_with_turns(client, "one", "two", "three")

    newest = await client.result("thread/turns/list", {"threadId": thread, "limit": 2})
    assert [t["id"] for t in newest["data"]] == [turns[2], turns[1]]
    assert all(t["itemsView"] == "summary" for t in newest["data"])
    assert [i["type"] for i in newest["data"][0]["items"]] == ["userMessage", "agentMessage"]
    rest = await client.result(
        "thread/turns/list", {"threadId": thread, "cursor": newest["nextCursor"]}
    )
    assert [t["id"] for t in rest["data"]] == [turns[0]] and rest["nextCursor"] is None
    back = await client.result(
        "thread/turns/list",
        {"threadId": thread, "cursor": rest["backwardsCursor"], "sortDirection": "asc"},
    )
    assert [t["id"] for t in back["data"]] == turns
    bare = await client.result(
        "thread/turns/list", {"threadId": thread, "itemsView": "notLoaded", "limit": 1}
    )
    assert bare["data"][0]["items"] == [] and bare["data"][0]["itemsView"] == "notLoaded"

    items = await client.result("thread/items/list", {"threadId": thread})
    assert [e["turnId"] for e in items["data"]][:1] == [turns[0]]
    assert items["nextCursor"] is None and len(items["data"]) >= 6
    in_turn = await client.result("thread/items/list", {"threadId": thread, "turnId": turns[1]})
    first_item = in_turn["data"][0]["item"]["id"]
    after = await client.result(
        "thread/items/list",
        {"threadId": thread, "turnId": turns[1], "cursor": {"type": "item", "itemId": first_item}},
    )
    assert [e["item"]["id"] for e in after["data"]] == [
        e["item"]["id"] for e in in_turn["data"][1:]
    ]
    paged = await client.result("thread/items/list", {"threadId": thread, "limit": 2})
    following = await client.result(
        "thread/items/list", {"threadId": thread, "cursor": paged["nextCursor"]}
    )
    assert [e["item"]["id"] for e in paged["data"] + following["data"]] == [
        e["item"]["id"] for e in items["data"]
    ]

    # The same pages from the rollout once the thread is unloaded.
    await client.result("thread/unsubscribe", {"threadId": thread})
    await client.wait_for(
        lambda m: (
            m["method"] == "thread/status/changed"
            and m["params"]["status"] == {"type": "notLoaded"}
        )
    )
    stored = await client.result("thread/turns/list", {"threadId": thread, "sortDirection": "asc"})
    assert [t["id"] for t in stored["data"]] == turns

    bad = await client.error("thread/turns/list", {"threadId": thread, "cursor": "after:nope"})
    assert "cursor" in bad["message"]
    anchor = await client.error(
        "thread/items/list", {"threadId": thread, "cursor": {"type": "item", "itemId": "x"}}
    )
    assert "turnId" in anchor["message"]
    unknown = await client.error("thread/items/list", {"threadId": thread, "turnId": "nope"})
    assert "no turn nope" in unknown["message"]
    missing = await client.error("thread/turns/list", {"threadId": "not-a-thread"})
    assert "no thread" in missing["message"]


async def test_injected_items_reach_the_model_and_bad_ones_are_refused(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    note = {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "remember the codeword PINEAPPLE"}],
    }
    assert await client.result("thread/inject_items", {"threadId": thread, "items": [note]}) == {}
    await client.turn_completed(await start_turn(client, thread, "what is the codeword?"))
    request = emulator.requests_of("http")[-1].body["input"]
    sent = _texts(request)
    assert sent.index("PINEAPPLE") < sent.index("what is the codeword?")
    # The session's own prefix (environment context) still comes first.
    assert "PINEAPPLE" not in _texts(request[:1])

    bad = await client.error(
        "thread/inject_items",
        {"threadId": thread, "items": [note, {"type": "message", "role": "user"}]},
    )
    assert "items.1" in bad["message"] and "missing required field `content`" in bad["message"]
    unloaded = await client.error("thread/inject_items", {"threadId": "nope", "items": [note]})
    assert "not loaded" in unloaded["message"]


async def test_metadata_update_patches_git_info_and_it_is_kept_in_the_rollout(
    start: Start,
) -> None:
    client = await start()
    thread, _turns = await _thread_with_turns(client, "one")
    updated = await client.result(
        "thread/metadata/update",
        {"threadId": thread, "gitInfo": {"branch": "feature/x", "sha": "abc123"}},
    )
    assert updated["thread"]["gitInfo"] == {
        "sha": "abc123",
        "branch": "feature/x",
        "originUrl": None,
    }
    cleared = await client.result(
        "thread/metadata/update", {"threadId": thread, "gitInfo": {"sha": None}}
    )
    assert cleared["thread"]["gitInfo"] == {"sha": None, "branch": "feature/x", "originUrl": None}
    read = await client.result("thread/read", {"threadId": thread})
    assert read["thread"]["gitInfo"]["branch"] == "feature/x"

    await client.result("thread/unsubscribe", {"threadId": thread})
    await client.wait_for(
        lambda m: (
            m["method"] == "thread/status/changed"
            and m["params"]["status"] == {"type": "notLoaded"}
        )
    )
    # Unloading closes the thread (after its status says notLoaded).
    closed = await client.wait_for(lambda m: m["method"] == "thread/closed")
    assert closed["params"] == {"threadId": thread}
    methods = [m["method"] for m in client.notifications]
    assert methods.index("thread/closed") > methods.index("thread/status/changed")
    stored = await client.result("thread/read", {"threadId": thread})
    assert stored["thread"]["gitInfo"]["branch"] == "feature/x"
    offline = await client.result(
        "thread/metadata/update",
        {"threadId": thread, "gitInfo": {"originUrl": "https://example.com/r.git"}},
    )
    assert offline["thread"]["gitInfo"] == {
        "sha": None,
        "branch": "feature/x",
        "originUrl": "https://example.com/r.git",
    }
    resumed = await client.result("thread/resume", {"threadId": thread})
    assert resumed["thread"]["gitInfo"]["originUrl"] == "https://example.com/r.git"

    empty = await client.error(
        "thread/metadata/update", {"threadId": thread, "gitInfo": {"branch": " "}}
    )
    assert "gitInfo.branch" in empty["message"]
    missing = await client.error(
        "thread/metadata/update", {"threadId": "nope", "gitInfo": {"branch": "b"}}
    )
    assert "no thread nope" in missing["message"]
    for params in ({"threadId": thread}, {"threadId": thread, "gitInfo": {}}):
        nothing = await client.error("thread/metadata/update", params)
        assert "at least one" in nothing["message"]


async def test_revert_drops_a_turn_and_all_later_ones_for_good(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread, turns = await _thread_with_turns(client, "keep alpha", "drop beta", "drop gamma")
    bad = await client.error("thread/revert", {"threadId": thread, "beforeTurnId": "nope"})
    assert "beforeTurnId" in bad["message"]

    reverted = await client.result("thread/revert", {"threadId": thread, "beforeTurnId": turns[1]})
    assert reverted["thread"]["turns"] == []
    assert reverted["turnsBackwardsCursor"] == f"from:{turns[0]}"
    await client.wait_for(
        lambda m: m["method"] == "thread/reverted" and m["params"] == {"threadId": thread}
    )
    page = await client.result(
        "thread/turns/list", {"threadId": thread, "cursor": reverted["turnsBackwardsCursor"]}
    )
    assert [t["id"] for t in page["data"]] == [turns[0]]
    items = await client.result(
        "thread/items/list",
        {"threadId": thread, "cursor": reverted["itemsBackwardsCursor"], "sortDirection": "desc"},
    )
    assert {e["turnId"] for e in items["data"]} == {turns[0]}

    await client.turn_completed(await start_turn(client, thread, "next delta"))
    sent = _texts(emulator.requests_of("http")[-1].body["input"])
    assert "keep alpha" in sent and "next delta" in sent
    assert "drop beta" not in sent and "drop gamma" not in sent

    # Recorded: after unloading, the thread reads and resumes without the dropped turns.
    await client.result("thread/unsubscribe", {"threadId": thread})
    await client.wait_for(lambda m: m["method"] == "thread/closed")
    read = await client.result("thread/read", {"threadId": thread, "includeTurns": True})
    assert len(read["thread"]["turns"]) == 2 and read["thread"]["turns"][0]["id"] == turns[0]
    await client.result("thread/resume", {"threadId": thread})
    await client.turn_completed(await start_turn(client, thread, "after resume"))
    sent = _texts(emulator.requests_of("http")[-1].body["input"])
    assert "keep alpha" in sent and "next delta" in sent and "drop beta" not in sent


async def test_the_sdk_forks_ephemerally_async_and_sync(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    import asyncio

    openai_codex = pytest.importorskip("openai_codex")
    from tests.conftest import TEST_MODEL, cli_env
    from tests.sdk_support import sdk_client, wiretapped_binary

    workdir = tmp_path / "work"
    workdir.mkdir()
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        source = await codex.thread_start()
        await source.run("alpha for the fork")
        forked = await codex.thread_fork(source.id, ephemeral=True)
        result = await forked.run("beta after the fork")
        assert result.status.value == "completed"
        read = (await forked.read(include_turns=True)).thread
        assert read.ephemeral is True and read.path is None and len(read.turns) == 2
        source_id = source.id

    sync_dir = tmp_path / "sync"
    sync_dir.mkdir()
    binary, log = wiretapped_binary(sync_dir)
    config = openai_codex.CodexConfig(
        codex_bin=str(binary),
        config_overrides=(
            f"model={TEST_MODEL}",
            "model_provider=emulator",
            f"model_providers.emulator.base_url={emulator.base_url}",
        ),
        env=cli_env(codex_home),
        cwd=str(workdir),
    )

    def sync_fork() -> tuple[bool, str | None, str]:
        with openai_codex.Codex(config) as codex_sync:
            forked_sync = codex_sync.thread_fork(source_id, ephemeral=True)
            answer = forked_sync.run("gamma, synchronously")
            thread = forked_sync.read().thread
            return thread.ephemeral, thread.path, answer.final_response or ""

    ephemeral, path, answer = await asyncio.to_thread(sync_fork)
    assert ephemeral is True and path is None and "gamma" in answer
    assert log.load().schema_errors() == []
