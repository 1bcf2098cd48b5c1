"""``thread/loaded/list``, ``thread/unsubscribe``, ``thread/delete`` and ``account/rateLimits/read``
through real pipes, every message checked against the reference schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from codex_engine.emulator import ResponsesEmulator
from tests.app_server_start import Start
from tests.test_app_server import RawClient, start_thread, start_turn


def _exists(path: Path) -> bool:
    return path.exists()


def _not_loaded(client: RawClient, thread_id: str) -> Callable[[dict[str, object]], bool]:
    def match(message: dict[str, object]) -> bool:
        params = message.get("params")
        return (
            message["method"] == "thread/status/changed"
            and isinstance(params, dict)
            and params["threadId"] == thread_id
            and params["status"] == {"type": "notLoaded"}
        )

    return match


async def test_loaded_threads_are_listed_and_unsubscribing_unloads_one(start: Start) -> None:
    client = await start()
    first, second = await start_thread(client), await start_thread(client)
    await client.turn_completed(await start_turn(client, first, "keep me"))
    listed = await client.result("thread/loaded/list", {})
    assert listed == {"data": [first, second], "nextCursor": None}
    page = await client.result("thread/loaded/list", {"limit": 1})
    rest = await client.result("thread/loaded/list", {"cursor": page["nextCursor"]})
    assert page["data"] + rest["data"] == [first, second] and rest["nextCursor"] is None

    assert await client.result("thread/unsubscribe", {"threadId": first}) == {
        "status": "unsubscribed"
    }
    await client.wait_for(_not_loaded(client, first))
    assert (await client.result("thread/loaded/list", {}))["data"] == [second]
    assert await client.result("thread/unsubscribe", {"threadId": first}) == {"status": "notLoaded"}
    # Its record stays: it reads from disk and resumes.
    read = await client.result("thread/read", {"threadId": first, "includeTurns": True})
    assert read["thread"]["status"] == {"type": "notLoaded"} and len(read["thread"]["turns"]) == 1
    resumed = await client.result("thread/resume", {"threadId": first})
    assert resumed["thread"]["id"] == first


async def test_unsubscribing_interrupts_a_running_turn_first(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread_id = await start_thread(client)
    emulator.first_event_delay = 3600
    turn_id = await start_turn(client, thread_id, "never answered")
    await emulator.wait_for_request("http")
    assert (await client.result("thread/unsubscribe", {"threadId": thread_id}))["status"] == (
        "unsubscribed"
    )
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "interrupted"
    await client.wait_for(_not_loaded(client, thread_id))
    emulator.first_event_delay = 0


async def test_delete_removes_the_record_of_a_loaded_or_recorded_thread(
    start: Start, codex_home: Path
) -> None:
    client = await start()
    loaded = await start_thread(client)
    await client.turn_completed(await start_turn(client, loaded, "delete me"))
    path = Path((await client.result("thread/read", {"threadId": loaded}))["thread"]["path"])
    assert _exists(path)
    assert await client.result("thread/delete", {"threadId": loaded}) == {}
    await client.wait_for(
        lambda m: m["method"] == "thread/deleted" and m["params"] == {"threadId": loaded}
    )
    assert not _exists(path)
    assert (await client.result("thread/loaded/list", {}))["data"] == []
    gone = await client.error("thread/read", {"threadId": loaded})
    assert gone["code"] == -32600 and loaded in gone["message"]
    again = await client.error("thread/delete", {"threadId": loaded})
    assert again["code"] == -32600 and "no recorded thread" in again["message"]

    # A thread recorded by an earlier server, never loaded here.
    other = await start()
    recorded = await start_thread(other)
    await other.turn_completed(await start_turn(other, recorded, "written by another server"))
    await other.result("thread/unsubscribe", {"threadId": recorded})
    await other.wait_for(_not_loaded(other, recorded))
    assert await client.result("thread/delete", {"threadId": recorded}) == {}
    listed = await client.result("thread/list", {})
    assert recorded not in [t["id"] for t in listed["data"]]


async def test_delete_refuses_a_running_thread_and_one_another_server_writes(
    start: Start, emulator: ResponsesEmulator
) -> None:
    holder = await start()
    thread_id = await start_thread(holder)
    await holder.turn_completed(await start_turn(holder, thread_id, "mine"))
    other = await start()
    locked = await other.error("thread/delete", {"threadId": thread_id})
    assert locked["code"] == -32600 and "open in another process" in locked["message"]

    emulator.first_event_delay = 3600
    turn_id = await start_turn(holder, thread_id, "busy")
    await emulator.wait_for_request("http", count=2)
    busy = await holder.error("thread/delete", {"threadId": thread_id})
    assert busy["code"] == -32600 and "in progress" in busy["message"]
    await holder.result("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
    assert (await holder.turn_completed(turn_id))["status"] == "interrupted"
    emulator.first_event_delay = 0


async def test_rate_limits_read_returns_what_the_responses_reported(start: Start) -> None:
    client = await start()
    unknown = await client.error("account/rateLimits/read")
    assert unknown["code"] == -32600 and "run a turn first" in unknown["message"]
    thread_id = await start_thread(client)
    await client.turn_completed(await start_turn(client, thread_id, "how much is left?"))
    updated = await client.wait_for(lambda m: m["method"] == "account/rateLimits/updated")
    read = await client.result("account/rateLimits/read")
    assert read["rateLimits"] == updated["params"]["rateLimits"]
    assert read["rateLimits"]["primary"]["usedPercent"] >= 0
