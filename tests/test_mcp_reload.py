"""``config/mcpServer/reload`` through real pipes, every message checked against the reference
schema: added servers start and their tools are offered on the next turn, removed ones stop
(their processes leave the process table), changed ones restart, unchanged ones keep running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.mcp_support import app_server, children_of, pid_alive, read_pid, stdio_entry, tool_names
from tests.test_app_server import Json, RawClient, start_thread, start_turn


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    async with app_server(codex_home, tmp_path, emulator) as raw:
        yield raw


def write_config(home: Path, *entries: str) -> None:
    (home / "config.toml").write_text("".join(entries))


def mark(client: RawClient) -> set[int]:
    """The notifications received so far (to wait for ones that come after)."""
    return {id(m) for m in client.notifications}


async def settled(client: RawClient, name: str, after: set[int] | None = None) -> Json:
    """The first ``mcpServer/startupStatus/updated`` saying ``name`` is up or not (after a mark)."""
    seen = after or set()
    message = await client.wait_for(
        lambda m: (
            id(m) not in seen
            and m["method"] == "mcpServer/startupStatus/updated"
            and m["params"]["name"] == name
            and m["params"]["status"] != "starting"
        )
    )
    params: Json = message["params"]
    return params


def statuses_since(client: RawClient, after: set[int]) -> list[tuple[str, str]]:
    return [
        (m["params"]["name"], m["params"]["status"])
        for m in client.notifications
        if id(m) not in after and m["method"] == "mcpServer/startupStatus/updated"
    ]


async def offered_tools(
    client: RawClient, emulator: ResponsesEmulator, thread_id: str
) -> list[str]:
    """The tool names the model is offered on a new turn of the thread."""
    emulator.enqueue(Reply.text("ok"))
    seen = len(emulator.requests_of("http"))
    turn = await client.turn_completed(await start_turn(client, thread_id, "which tools?"))
    assert turn["status"] == "completed"
    return tool_names(emulator.requests_of("http")[seen].body)


async def test_a_server_added_to_config_starts_and_its_tools_are_offered_on_the_next_turn(
    client: RawClient, emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    write_config(codex_home, stdio_entry("docs"))
    thread_id = await start_thread(client)
    assert (await settled(client, "docs"))["status"] == "ready"
    before = await offered_tools(client, emulator, thread_id)
    assert "mcp__docs__echo" in before and "mcp__extra__echo" not in before

    pid_file = tmp_path / "extra.pid"
    write_config(codex_home, stdio_entry("docs"), stdio_entry("extra", "--pid-file", str(pid_file)))
    since = mark(client)
    assert await client.result("config/mcpServer/reload") == {}
    ready = await settled(client, "extra", since)
    assert ready == {"name": "extra", "status": "ready", "error": None, "threadId": thread_id}
    # The new server was announced as starting; the unchanged one was left alone.
    assert statuses_since(client, since) == [("extra", "starting"), ("extra", "ready")]
    assert pid_alive(read_pid(pid_file))

    after = await offered_tools(client, emulator, thread_id)
    assert "mcp__extra__echo" in after and "mcp__docs__echo" in after


async def test_a_server_removed_from_config_is_stopped_and_its_process_is_gone(
    client: RawClient, emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    gone_pid, kept_pid = tmp_path / "gone.pid", tmp_path / "kept.pid"
    kept = stdio_entry("kept", "--pid-file", str(kept_pid))
    write_config(codex_home, stdio_entry("gone", "--pid-file", str(gone_pid)), kept)
    thread_id = await start_thread(client)
    await settled(client, "gone")
    await settled(client, "kept")
    gone, kept_before = read_pid(gone_pid), read_pid(kept_pid)
    assert pid_alive(gone)

    write_config(codex_home, kept)
    since = mark(client)
    assert await client.result("config/mcpServer/reload") == {}
    # Stopped before the answer: the process is no longer in the process table.
    assert not pid_alive(gone)
    assert pid_alive(kept_before) and read_pid(kept_pid) == kept_before  # not restarted
    assert statuses_since(client, since) == []

    tools = await offered_tools(client, emulator, thread_id)
    assert "mcp__kept__echo" in tools
    assert not [name for name in tools if name.startswith("mcp__gone__")]
    listing = await client.result("mcpServerStatus/list", {"threadId": thread_id})
    assert [s["name"] for s in listing["data"]] == ["kept"]


async def ready_in(client: RawClient, thread_id: str, after: set[int]) -> Json:
    message = await client.wait_for(
        lambda m: (
            id(m) not in after
            and m["method"] == "mcpServer/startupStatus/updated"
            and m["params"]["threadId"] == thread_id
            and m["params"]["status"] == "ready"
        )
    )
    params: Json = message["params"]
    return params


async def test_a_changed_or_disabled_server_restarts_or_stops_in_every_loaded_thread(
    client: RawClient, codex_home: Path, tmp_path: Path
) -> None:
    write_config(codex_home, stdio_entry("docs"))
    threads = [await start_thread(client), await start_thread(client)]
    for thread_id in threads:
        await ready_in(client, thread_id, set())
    old = set(children_of(client.process.pid))
    assert len(old) == 2  # one server per thread

    pid_file = tmp_path / "docs.pid"
    write_config(codex_home, stdio_entry("docs", "--pid-file", str(pid_file)))
    since = mark(client)
    assert await client.result("config/mcpServer/reload") == {}
    assert [pid for pid in old if pid_alive(pid)] == []
    for thread_id in threads:
        assert (await ready_in(client, thread_id, since))["name"] == "docs"
    new = set(children_of(client.process.pid))
    assert len(new) == 2 and not new & old and read_pid(pid_file) in new

    write_config(codex_home, stdio_entry("docs", "--pid-file", str(pid_file), enabled=False))
    assert await client.result("config/mcpServer/reload") == {}
    assert [pid for pid in new if pid_alive(pid)] == []
    for thread_id in threads:
        listing = await client.result("mcpServerStatus/list", {"threadId": thread_id})
        assert listing["data"] == []


async def test_a_thread_started_without_servers_gets_them_on_reload(
    client: RawClient, emulator: ResponsesEmulator, codex_home: Path
) -> None:
    thread_id = await start_thread(client)
    assert not [n for n in await offered_tools(client, emulator, thread_id) if "mcp__" in n]
    write_config(codex_home, stdio_entry("late"))
    since = mark(client)
    assert await client.result("config/mcpServer/reload") == {}
    assert (await settled(client, "late", since))["status"] == "ready"
    assert "mcp__late__echo" in await offered_tools(client, emulator, thread_id)


async def test_a_broken_config_is_refused_and_the_running_servers_are_left_alone(
    client: RawClient, codex_home: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "docs.pid"
    write_config(codex_home, stdio_entry("docs", "--pid-file", str(pid_file)))
    await start_thread(client)
    await settled(client, "docs")
    pid = read_pid(pid_file)

    (codex_home / "config.toml").write_text("[mcp_servers.docs\n")
    error = await client.error("config/mcpServer/reload")
    assert error["code"] == -32600
    assert "config.toml" in error["message"] and "invalid TOML" in error["message"]
    assert pid_alive(pid)


async def test_a_server_whose_tools_changed_has_them_offered_on_the_next_turn(
    client: RawClient, emulator: ResponsesEmulator, codex_home: Path
) -> None:
    write_config(codex_home, stdio_entry("docs", "--growing"))
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    await settled(client, "docs")
    emulator.enqueue(Reply.function_call("mcp__docs__grow", {}, call_id="g1"), Reply.text("ok"))
    turn = await client.turn_completed(await start_turn(client, thread_id, "grow"))
    assert turn["status"] == "completed"
    first = tool_names(emulator.requests_of("http")[0].body)
    assert "mcp__docs__grow" in first and "mcp__docs__grown" not in first
    # The server sent notifications/tools/list_changed while `grow` ran: listed again.
    assert "mcp__docs__grown" in await offered_tools(client, emulator, thread_id)
