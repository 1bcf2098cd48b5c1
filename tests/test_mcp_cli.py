"""`codex-engine exec` with MCP servers, run as a user runs it: JSON events, warnings, exit codes,
and no server process left once it exits."""

from __future__ import annotations

import json
from pathlib import Path

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import run_cli
from tests.mcp_support import emulator_flags, pid_alive, read_pid, stdio_entry


def events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


async def test_exec_json_shows_mcp_tool_calls_and_leaves_no_server_running(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "srv.pid"
    (codex_home / "config.toml").write_text(stdio_entry("docs", "--pid-file", str(pid_file)))
    emulator.enqueue(
        Reply.function_call("mcp__docs__weather", {"city": "Rome"}, call_id="c1"),
        Reply.function_call("mcp__docs__fails", {}, call_id="c2"),
        Reply.text("all done"),
    )
    result = await run_cli(
        "exec", "--json", "--skip-git-repo-check", *emulator_flags(emulator),
        "-s", "danger-full-access", "use the tools", home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    shown = [e for e in events(result.stdout) if "item" in e]
    calls = [e for e in shown if e["item"]["type"] == "mcp_tool_call"]  # type: ignore[index]
    assert [(e["type"], e["item"]["status"]) for e in calls] == [  # type: ignore[index]
        ("item.started", "in_progress"),
        ("item.completed", "completed"),
        ("item.started", "in_progress"),
        ("item.completed", "failed"),
    ]
    weather = calls[1]["item"]
    assert weather["server"] == "docs" and weather["tool"] == "weather"  # type: ignore[index]
    assert weather["arguments"] == {"city": "Rome"}  # type: ignore[index]
    assert weather["result"]["structured_content"] == {"city": "Rome", "temp": 21.5}  # type: ignore[index]
    assert calls[0]["item"]["id"] == weather["id"]  # type: ignore[index]
    assert not pid_alive(read_pid(pid_file))


async def test_exec_warns_once_about_a_failing_server_and_answers(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(stdio_entry("broken", "--fail", "bad credentials"))
    emulator.enqueue(Reply.text("fine without it"))
    result = await run_cli(
        "exec", "--skip-git-repo-check", *emulator_flags(emulator), "hello",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert "fine without it" in result.stdout
    lines = [line for line in result.stderr.splitlines() if "broken" in line]
    assert len(lines) == 1 and "MCP client for `broken` failed to start" in lines[0]
    assert "bad credentials" in lines[0]


async def test_exec_fails_in_one_line_when_a_required_server_cannot_start(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    entry = stdio_entry("db", "--fail", "db offline", required=True)
    (codex_home / "config.toml").write_text(entry)
    result = await run_cli(
        "exec", "--skip-git-repo-check", *emulator_flags(emulator), "hello",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert result.code != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "required MCP servers failed to initialize: db: " in errors[0]
    assert emulator.requests == []


async def test_exec_refuses_a_tool_needing_approval_under_approval_policy_never(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(stdio_entry("docs"))
    emulator.enqueue(
        Reply.function_call("mcp__docs__destroy", {}, call_id="d"),
        Reply.function_call("mcp__docs__echo", {"text": "ok"}, call_id="e"),
        Reply.text("done"),
    )
    result = await run_cli(
        "exec", "--json", "--skip-git-repo-check", *emulator_flags(emulator), "-s", "read-only",
        "go", home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    done = {
        e["item"]["tool"]: e["item"]  # type: ignore[index]
        for e in events(result.stdout)
        if e.get("type") == "item.completed" and e["item"]["type"] == "mcp_tool_call"  # type: ignore[index]
    }
    assert done["destroy"]["status"] == "failed"
    assert done["destroy"]["error"] == {
        "message": "MCP tool call requires approval, but approval policy is never"
    }
    assert done["echo"]["status"] == "completed"  # read-only: no approval needed


async def test_a_bad_mcp_server_entry_is_one_config_error_naming_server_and_key(
    codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(
        '[mcp_servers.docs]\ncommand = "x"\nurl = "http://127.0.0.1:1/mcp"\n'
    )
    result = await run_cli("exec", "--skip-git-repo-check", "hello", home=codex_home, cwd=tmp_path)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.code != 0 and len(errors) == 1, result.stderr
    assert "MCP server `docs`" in errors[0] and "`mcp_servers.docs.url`" in errors[0]
