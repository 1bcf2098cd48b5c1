"""The optional fields the reference fills, filled the same way (observed from 0.163's
app-server): a thread's environments, history mode, recency and source, a turn's root, the
session's workspace roots and permission profile, read state, and deprecations of config keys.

Every message the server writes is validated against the reference schema by the fixture.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import RawClient


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    (codex_home / "config.toml").write_text("[features]\nweb_search_request = true\n")
    raw = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


async def test_threads_and_turns_carry_the_fields_the_reference_fills(
    client: RawClient, tmp_path: Path
) -> None:
    await client.initialize()
    started = await client.result("thread/start", {"threadSource": "review-bot"})
    thread = started["thread"]
    cwd = str(tmp_path)
    assert thread["environments"] == [
        {"environmentId": "local", "cwd": cwd, "runtimeWorkspaceRoots": [cwd]}
    ]
    # As 0.163: history pages with thread/turns/list and thread/items/list.
    assert thread["historyMode"] == "paginated"
    assert thread["recencyAt"] == thread["updatedAt"]
    assert thread["threadSource"] == "review-bot"
    assert started["runtimeWorkspaceRoots"] == [cwd]
    assert "activePermissionProfile" in started and started["activePermissionProfile"] is None

    turn = await client.result(
        "turn/start", {"threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]}
    )
    turn_id = turn["turn"]["id"]
    assert turn["turn"]["rootTurnId"] == turn_id
    done = await client.turn_completed(turn_id)
    assert done["rootTurnId"] == turn_id
    read = await client.result("thread/read", {"threadId": thread["id"], "includeTurns": True})
    assert read["thread"]["turns"][0]["rootTurnId"] == turn_id
    assert read["thread"]["recencyAt"] >= thread["recencyAt"]
    # codex-engine keeps no durable read state: null, which the schema defines as unavailable.
    assert "readState" in read and read["readState"] is None
    listed = await client.result("thread/list", {})
    assert "readStates" in listed and listed["readStates"] is None
    stored = next(t for t in listed["data"] if t["id"] == thread["id"])
    assert stored["recencyAt"] == stored["updatedAt"]


async def test_a_deprecated_feature_key_is_announced_as_a_deprecation(client: RawClient) -> None:
    await client.initialize()
    await client.result("thread/start", {})
    notice = await client.wait_for(lambda m: m["method"] == "deprecationNotice")
    assert notice["params"]["summary"] == "`[features].web_search_request` is deprecated."
    assert "web_search" in notice["params"]["details"]
    assert not [
        m
        for m in client.notifications
        if m["method"] == "configWarning" and "web_search_request" in m["params"]["summary"]
    ]
