"""MCP over the app-server, through real pipes, every message checked against the reference
schema: startup notices, `mcpToolCall` items, status listing, direct calls, approvals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.mcp_support import app_server, pid_alive, read_pid, stdio_entry
from tests.test_app_server import Json, RawClient, start_thread, start_turn


@pytest.fixture
def pid_file(tmp_path: Path) -> Path:
    return tmp_path / "server.pid"


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path, pid_file: Path
) -> AsyncIterator[RawClient]:
    (codex_home / "config.toml").write_text(
        stdio_entry("docs", "--pid-file", str(pid_file))
        + stdio_entry("broken", "--fail", "no such database")
    )
    async with app_server(codex_home, tmp_path, emulator) as raw:
        yield raw


def statuses(client: RawClient) -> list[tuple[str, str]]:
    return [
        (m["params"]["name"], m["params"]["status"])
        for m in client.notifications
        if m["method"] == "mcpServer/startupStatus/updated"
    ]


async def settled(client: RawClient, name: str) -> Json:
    message = await client.wait_for(
        lambda m: (
            m["method"] == "mcpServer/startupStatus/updated"
            and m["params"]["name"] == name
            and m["params"]["status"] != "starting"
        )
    )
    params: Json = message["params"]
    return params


async def test_a_turn_calls_an_mcp_tool_shown_as_an_mcp_tool_call_item_and_servers_stop(
    client: RawClient, emulator: ResponsesEmulator, pid_file: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("mcp__docs__echo", {"text": "hi"}, call_id="call-1"),
        Reply.text("done"),
    )
    thread_id = await start_thread(client, approvalPolicy="never", sandbox="danger-full-access")
    assert (await settled(client, "docs"))["status"] == "ready"
    broken = await settled(client, "broken")
    assert broken["status"] == "failed" and "no such database" in broken["error"]
    assert ("docs", "starting") in statuses(client)
    turn = await client.turn_completed(await start_turn(client, thread_id, "use it"))
    assert turn["status"] == "completed"
    started = [
        m["params"]["item"]
        for m in client.notifications
        if m["method"] == "item/started" and m["params"]["item"]["type"] == "mcpToolCall"
    ]
    assert [(i["id"], i["server"], i["tool"], i["status"]) for i in started] == [
        ("call-1", "docs", "echo", "inProgress")
    ]
    completed = await client.wait_for(
        lambda m: m["method"] == "item/completed" and m["params"]["item"]["type"] == "mcpToolCall"
    )
    item = completed["params"]["item"]
    assert item["status"] == "completed"
    assert item["arguments"] == {"text": "hi"}
    assert item["result"]["structuredContent"] == {"result": "echo: hi"}
    pid = read_pid(pid_file)
    assert pid_alive(pid)
    assert await client.close() == 0
    assert not pid_alive(pid)  # the app-server stopped the thread's server on its way out


async def test_status_list_direct_tool_call_and_resource_read(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread_id = await start_thread(client)
    await settled(client, "docs")
    listing = await client.result("mcpServerStatus/list", {"threadId": thread_id})
    by_name = {s["name"]: s for s in listing["data"]}
    docs = by_name["docs"]
    assert docs["runtimeStatus"] == "connected"
    assert docs["authStatus"] == "unsupported"
    assert "echo" in docs["tools"] and docs["tools"]["echo"]["inputSchema"]["type"] == "object"
    assert [r["uri"] for r in docs["resources"]] == ["file:///readme.txt"]
    assert [t["uriTemplate"] for t in docs["resourceTemplates"]] == ["notes://{note_id}"]
    assert by_name["broken"]["runtimeStatus"] == "failed"
    assert "no such database" in by_name["broken"]["toolsError"]
    page = await client.result("mcpServerStatus/list", {"threadId": thread_id, "limit": 1})
    assert [s["name"] for s in page["data"]] == ["docs"] and page["nextCursor"] == "1"

    called = await client.result(
        "mcpServer/tool/call",
        {"threadId": thread_id, "server": "docs", "tool": "weather", "arguments": {"city": "Oslo"}},
    )
    assert called["structuredContent"] == {"city": "Oslo", "temp": 21.5}
    assert called["isError"] is False
    read = await client.result(
        "mcpServer/resource/read", {"threadId": thread_id, "server": "docs", "uri": "notes://7"}
    )
    assert read["contents"][0]["text"] == "note 7"
    missing = await client.error(
        "mcpServer/tool/call", {"threadId": thread_id, "server": "broken", "tool": "echo"}
    )
    assert "MCP server `broken` is not running" in missing["message"]
    login = await client.error("mcpServer/oauth/login", {"name": "docs"})
    assert login["code"] == -32600 and "not supported" in login["message"]


async def _answer(client: RawClient, action: str, meta: Any = None) -> Json:
    request = await client.server_requests.get()
    assert request["method"] == "mcpServer/elicitation/request"
    result: Json = {"action": action, "content": None}
    if meta is not None:
        result["_meta"] = meta
    await client.send({"id": request["id"], "result": result})
    params: Json = request["params"]
    return params


async def test_a_tool_that_may_write_asks_the_client_and_follows_its_answer(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    emulator.enqueue(
        Reply.function_call("mcp__docs__write_note", {"text": "a"}, call_id="w1"),
        Reply.function_call("mcp__docs__write_note", {"text": "b"}, call_id="w2"),
        Reply.function_call("mcp__docs__echo", {"text": "c"}, call_id="r1"),
        Reply.text("done"),
    )
    thread_id = await start_thread(
        client, approvalPolicy="on-request", approvalsReviewer="user", sandbox="read-only"
    )
    turn_id = await start_turn(client, thread_id, "write notes")
    asked = await _answer(client, "decline")
    assert asked["serverName"] == "docs" and asked["mode"] == "form"
    assert asked["_meta"]["codex_approval_kind"] == "mcp_tool_call"
    assert asked["_meta"]["tool_params"] == {"text": "a"}
    assert 'run tool "write_note"' in asked["message"]
    await _answer(client, "accept")
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    assert client.server_requests.empty()  # the read-only `echo` was not asked about
    items = {
        m["params"]["item"]["id"]: m["params"]["item"]
        for m in client.notifications
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "mcpToolCall"
    }
    assert items["w1"]["status"] == "failed"
    assert items["w1"]["error"]["message"] == "user rejected MCP tool call"
    assert items["w2"]["status"] == "completed"
    assert items["r1"]["status"] == "completed"


async def test_oauth_sign_in_is_refused_as_not_supported_naming_the_token_alternative(
    client: RawClient,
) -> None:
    error = await client.error("mcpServer/oauth/login", {"name": "docs"})
    assert error["code"] == -32600
    assert "not supported by codex-engine" in error["message"]
    assert "bearer_token_env_var" in error["message"]
