"""MCP servers as tool sources through the library API, against real test servers (stdio, HTTP)
and the emulator: tool listing and names, calls and their results, failures, lifecycle."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from codex_engine.core.events import (
    McpToolCallFinished,
    McpToolCallStarted,
    TurnCompleted,
    TurnEvent,
    WarningEvent,
)
from codex_engine.core.launch import open_session
from codex_engine.core.session import Session
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.mcp.errors import McpStartupError
from tests.mcp_servers.tools import TINY_PNG_B64
from tests.mcp_support import (
    function_outputs,
    http_entry,
    http_mcp_server,
    mcp_config,
    pid_alive,
    read_pid,
    stdio_entry,
    tool_names,
)


async def run(session: Session, text: str) -> list[TurnEvent]:
    return [event async for event in session.run_turn(text)]


def structured(output: Any) -> Any:
    """The JSON after the reference's `Wall time` header of a structured result's output."""
    assert isinstance(output, str), output
    header, label, body = output.split("\n", 2)
    assert header.startswith("Wall time: ") and header.endswith(" seconds") and label == "Output:"
    return json.loads(body)


def finished(events: list[TurnEvent]) -> dict[str, McpToolCallFinished]:
    return {e.call_id: e for e in events if isinstance(e, McpToolCallFinished)}


async def test_stdio_tools_are_offered_under_qualified_names_and_a_call_reaches_the_follow_up(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "srv.pid"
    config = mcp_config(
        codex_home, emulator, tmp_path, stdio_entry("docs", "--pid-file", str(pid_file))
    )
    emulator.enqueue(
        Reply.function_call("mcp__docs__echo", {"text": "hi"}, call_id="c1"),
        Reply.text("done"),
    )
    async with open_session(config, ephemeral=True) as session:
        events = await run(session, "use the tool")
        pid = read_pid(pid_file)
        assert pid_alive(pid)
    assert isinstance(events[-1], TurnCompleted)
    first = emulator.requests_of("http")[0].body
    names = tool_names(first)
    assert "mcp__docs__echo" in names
    assert "mcp__docs__tool_with_dot" in names  # `tool.with.dot` sanitised
    assert {"list_mcp_resources", "list_mcp_resource_templates", "read_mcp_resource"} <= set(names)
    echo = next(t for t in first["tools"] if t.get("name") == "mcp__docs__echo")
    assert echo["description"] == "Echo text back."
    assert echo["strict"] is False
    assert echo["parameters"] == {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }
    started = [e for e in events if isinstance(e, McpToolCallStarted)]
    assert [(e.server, e.tool, e.arguments) for e in started] == [("docs", "echo", {"text": "hi"})]
    # A tool returning a string has structured content ({"result": ...}) from this SDK.
    assert structured(function_outputs(emulator)["c1"]) == {"result": "echo: hi"}
    # The session is over: the server's process is gone.
    assert not pid_alive(pid)


async def test_results_structured_image_error_and_bad_arguments_reach_the_model_as_the_reference(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = mcp_config(codex_home, emulator, tmp_path, stdio_entry("s"))
    emulator.enqueue(
        Reply.function_call("mcp__s__weather", {"city": "Paris"}, call_id="w"),
        Reply.function_call("mcp__s__picture", {}, call_id="p"),
        Reply.function_call("mcp__s__fails", {}, call_id="f"),
        Reply.function_call("mcp__s__echo", "not json", call_id="bad"),
        Reply.text("done"),
    )
    async with open_session(config, ephemeral=True) as session:
        events = await run(session, "go")
    outputs = function_outputs(emulator)
    assert structured(outputs["w"]) == {"city": "Paris", "temp": 21.5}
    assert outputs["p"][0]["text"].startswith("Wall time: ")
    assert outputs["p"][1] == {
        "type": "input_image",
        "image_url": f"data:image/png;base64,{TINY_PNG_B64}",
        "detail": "high",
    }
    assert "the tool failed on purpose" in outputs["f"][1]["text"]
    assert outputs["bad"].startswith("err: ")
    done = finished(events)
    assert done["w"].result is not None and done["w"].result["structuredContent"]["temp"] == 21.5
    assert done["f"].failed and done["f"].result is not None and done["f"].result["isError"]
    assert "bad" not in done  # unparseable arguments never reach the server


async def test_a_tool_that_outlives_tool_timeout_sec_fails_and_the_session_goes_on(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = mcp_config(codex_home, emulator, tmp_path, stdio_entry("s", tool_timeout_sec=0.5))
    emulator.enqueue(
        Reply.function_call("mcp__s__sleepy", {"seconds": 30}, call_id="slow"),
        Reply.function_call("mcp__s__echo", {"text": "still here"}, call_id="after"),
        Reply.text("done"),
    )
    async with open_session(config, ephemeral=True) as session:
        started = time.monotonic()
        events = await run(session, "go")
        elapsed = time.monotonic() - started
    assert isinstance(events[-1], TurnCompleted)
    assert elapsed < 10
    slow = finished(events)["slow"]
    assert slow.error is not None and "timed out awaiting tools/call after 500ms" in slow.error
    outputs = function_outputs(emulator)
    assert "timed out awaiting tools/call after 500ms" in outputs["slow"][1]["text"]
    assert structured(outputs["after"]) == {"result": "echo: still here"}


async def test_a_server_that_crashes_mid_session_fails_its_calls_and_the_turn_goes_on(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = mcp_config(codex_home, emulator, tmp_path, stdio_entry("s"))
    emulator.enqueue(
        Reply.function_call("mcp__s__crash", {}, call_id="crash"),
        Reply.function_call("mcp__s__echo", {"text": "x"}, call_id="after"),
        Reply.text("done"),
    )
    async with open_session(config, ephemeral=True) as session:
        events = await run(session, "go")
    assert isinstance(events[-1], TurnCompleted)
    done = finished(events)
    assert done["crash"].error is not None and "Transport closed" in done["crash"].error
    assert done["after"].error is not None
    assert "tool call failed for `s/echo`" in function_outputs(emulator)["after"][1]["text"]


async def test_a_failing_server_gives_one_warning_and_the_others_serve(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entries = stdio_entry("broken", "--fail", "cannot open database") + stdio_entry("good")
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    emulator.enqueue(Reply.text("one"), Reply.text("two"))
    async with open_session(config, ephemeral=True) as session:
        first = await run(session, "go")
        second = await run(session, "again")
    warnings = [e.message for e in first if isinstance(e, WarningEvent)]
    assert len(warnings) == 1, warnings
    assert "MCP client for `broken` failed to start" in warnings[0]
    assert "cannot open database" in warnings[0]
    assert not [e for e in second if isinstance(e, WarningEvent)]
    names = tool_names(emulator.requests_of("http")[0].body)
    assert "mcp__good__echo" in names and not [n for n in names if "broken" in n]


async def test_a_required_server_that_fails_fails_the_session_start_in_one_line(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entries = stdio_entry("db", "--fail", "no database", required=True)
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    with pytest.raises(McpStartupError) as caught:
        async with open_session(config):
            pass
    message = str(caught.value)
    assert message.startswith("required MCP servers failed to initialize: db: ")
    assert "\n" not in message
    assert not list((codex_home / "sessions").glob("**/*.jsonl"))  # no rollout left behind
    assert emulator.requests == []


async def test_a_server_that_never_initializes_times_out_with_a_warning_and_is_stopped(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "hang.pid"
    entries = stdio_entry(
        "hang", "--delay", "60", "--pid-file", str(pid_file), startup_timeout_sec=1
    ) + stdio_entry("quick")
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    emulator.enqueue(Reply.text("answer"))
    async with open_session(config, ephemeral=True) as session:
        started = time.monotonic()
        events = await run(session, "go")
        waited = time.monotonic() - started
    # Stopped in the background once it timed out; gone for sure when the session is.
    assert not pid_alive(read_pid(pid_file))
    assert waited < 8  # the first request waited for the hung server no longer than its timeout
    warnings = [e.message for e in events if isinstance(e, WarningEvent)]
    assert warnings == [
        "MCP client for `hang` timed out after 1 seconds. Add or adjust `startup_timeout_sec` "
        "in your config.toml: [mcp_servers.hang] startup_timeout_sec = XX"
    ]
    assert "mcp__quick__echo" in tool_names(emulator.requests_of("http")[0].body)


async def test_a_required_server_that_times_out_fails_the_session_start(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entries = stdio_entry("hang", "--delay", "60", startup_timeout_sec=0.5, required=True)
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    with pytest.raises(McpStartupError, match=r"hang: MCP client for `hang` timed out after 0\.5"):
        async with open_session(config):
            pass


async def test_enabled_and_disabled_tools_filter_what_the_model_gets(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entries = stdio_entry("a", enabled_tools=["echo", "weather"], disabled_tools=["weather"])
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    emulator.enqueue(Reply.text("ok"))
    async with open_session(config, ephemeral=True) as session:
        await run(session, "go")
    names = [n for n in tool_names(emulator.requests_of("http")[0].body) if n.startswith("mcp__")]
    assert names == ["mcp__a__echo"]


async def test_streamable_http_server_with_bearer_token_and_headers(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path, secret_canaries: Any
) -> None:
    token = "mcp-bearer-4d1f7e"
    secret_canaries.add(token)
    async with http_mcp_server("remote", bearer=token) as server:
        entry = http_entry(
            "remote",
            server.url,
            bearer_token_env_var="REMOTE_TOKEN",
            http_headers={"X-Static": "one"},
            env_http_headers={"X-From-Env": "REMOTE_HEADER"},
        )
        config = mcp_config(codex_home, emulator, tmp_path, entry)
        emulator.enqueue(
            Reply.function_call("mcp__remote__echo", {"text": "over http"}, call_id="h"),
            Reply.text("done"),
        )
        env = {"REMOTE_TOKEN": token, "REMOTE_HEADER": "two"}
        async with open_session(config, ephemeral=True, env=env) as session:
            await run(session, "go")
    assert structured(function_outputs(emulator)["h"]) == {"result": "echo: over http"}
    seen = server.headers_seen[0]
    assert seen["x-static"] == "one" and seen["x-from-env"] == "two"


async def test_http_server_without_its_token_variable_fails_to_start_naming_the_variable(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entry = http_entry("remote", "http://127.0.0.1:9/mcp", bearer_token_env_var="MISSING_TOKEN")
    config = mcp_config(codex_home, emulator, tmp_path, entry)
    emulator.enqueue(Reply.text("ok"))
    async with open_session(config, ephemeral=True, env={}) as session:
        events = await run(session, "go")
    warnings = [e.message for e in events if isinstance(e, WarningEvent)]
    assert warnings == [
        "MCP client for `remote` failed to start: Environment variable MISSING_TOKEN for MCP "
        "server 'remote' is not set"
    ]


async def test_servers_start_in_parallel_so_slow_ones_cost_the_longest_not_the_sum(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entries = "".join(
        stdio_entry(name, "--delay", "60", startup_timeout_sec=2.5) for name in ("s1", "s2", "s3")
    )
    config = mcp_config(codex_home, emulator, tmp_path, entries)
    emulator.enqueue(Reply.text("answer"))
    async with open_session(config, ephemeral=True) as session:
        started = time.monotonic()
        events = await run(session, "go")
        waited = time.monotonic() - started
    # One after the other they would take 7.5 s; together, about one timeout.
    assert 2.0 < waited < 6.0
    assert len([e for e in events if isinstance(e, WarningEvent)]) == 3


async def test_a_server_that_dies_after_saying_its_tools_changed_keeps_its_last_list(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = mcp_config(codex_home, emulator, tmp_path, stdio_entry("s", "--growing"))
    emulator.enqueue(
        Reply.function_call("mcp__s__grow", {"then_exit": True}, call_id="grow"),
        Reply.text("done"),
        Reply.text("again"),
    )
    async with open_session(config, ephemeral=True) as session:
        events = await run(session, "go")
        assert finished(events)["grow"].error is not None
        assert isinstance((await run(session, "next"))[-1], TurnCompleted)
    # Listing again failed (the server is gone): the next turn offers the tools it had.
    names = tool_names(emulator.requests_of("http")[-1].body)
    assert "mcp__s__grow" in names and "mcp__s__grown" not in names
