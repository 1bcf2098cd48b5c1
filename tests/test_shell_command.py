"""Which command tool a model gets (``exec_command`` by default, ``shell_command`` or ``shell``
with feature ``unified_exec`` off, none for ``shell_type = "disabled"``), and ``shell_command``
carried out like ``shell``: approval, sandbox, apply_patch interception, limits, events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from codex_engine.config.catalog import find_model_info
from codex_engine.core.approvals import ApprovalRequest
from codex_engine.core.events import CommandFinished, CommandRejected, CommandStarted
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.shell_command import shell_command_spec
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.session_support import one_turn, outputs_sent, settings

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "command_tool_0.163.json").read_text("utf-8")
)
COMMAND_TOOLS = {"exec_command", "write_stdin", "shell", "shell_command", "local_shell"}


def model_requests(emulator: ResponsesEmulator) -> list[dict[str, Any]]:
    """The bodies of the model requests so far, over HTTP or WebSocket."""
    return [
        r.body
        for r in emulator.requests
        if r.kind in ("http", "ws_message") and isinstance(r.body, dict) and "tools" in r.body
    ]


def command_tools_offered(emulator: ResponsesEmulator, index: int = 0) -> list[str]:
    body = model_requests(emulator)[index]
    return [t["name"] for t in body["tools"] if t.get("name") in COMMAND_TOOLS]


def outputs(emulator: ResponsesEmulator) -> list[str]:
    """Each tool output the model was sent, once (every request repeats the earlier ones)."""
    return list(dict.fromkeys(outputs_sent(emulator)))


def shell_command_settings(cwd: Path, **overrides: Any) -> SessionSettings:
    """gpt-5.5 (catalog ``shell_type = "shell_command"``) with unified exec off; commands run
    by bash without this machine's login profile."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "SHELL": "/bin/bash"}
    info, _ = find_model_info("gpt-5.5")
    values: dict[str, Any] = {"model_info": info, "unified_exec": False, "shell_env": env}
    return settings(cwd, **(values | overrides))


@pytest.mark.parametrize("shell_type", sorted(REFERENCE["by_catalog_shell_type"]))
async def test_command_tool_per_catalog_shell_type_matches_the_reference(
    emulator: ResponsesEmulator, tmp_path: Path, shell_type: str
) -> None:
    # Unified exec on (the default, as 0.163): exec_command for every shell_type but disabled.
    base = settings(tmp_path)
    assert base.unified_exec
    info = msgspec.structs.replace(base.model_info, shell_type=shell_type)
    emulator.enqueue(Reply.text("ok"))
    await one_turn(emulator, settings(tmp_path, model_info=info), "hi")
    assert command_tools_offered(emulator) == REFERENCE["by_catalog_shell_type"][shell_type]


@pytest.mark.parametrize(
    ("shell_type", "expected"),
    [
        ("shell_command", ["shell_command"]),
        ("unified_exec", ["shell_command"]),
        ("default", ["shell"]),
        ("local", ["shell"]),
        ("disabled", []),
    ],
)
async def test_with_unified_exec_off_the_catalog_shell_type_picks_the_tool(
    emulator: ResponsesEmulator, tmp_path: Path, shell_type: str, expected: list[str]
) -> None:
    base = settings(tmp_path)
    info = msgspec.structs.replace(base.model_info, shell_type=shell_type)
    emulator.enqueue(Reply.text("ok"))
    await one_turn(emulator, settings(tmp_path, model_info=info, unified_exec=False), "hi")
    assert command_tools_offered(emulator) == expected


async def test_cli_default_is_exec_command_and_disabling_unified_exec_gives_shell_command(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    flags = ["exec", "--json", "--skip-git-repo-check", "-s", "danger-full-access"]
    flags += emulator_flags(emulator.base_url)
    # The built-in model runs `echo hi` with whichever command tool it is offered.
    first = await run_cli(
        *flags, "-m", "gpt-5.5", "run `echo hi`", home=codex_home, cwd=tmp_path,
        HOME=str(tmp_path),
    )  # fmt: skip
    assert first.code == 0, first.stderr
    assert command_tools_offered(emulator) == ["exec_command", "write_stdin"]
    second = await run_cli(
        *flags, "-m", "gpt-5.5", "--disable", "unified_exec", "run `echo hi`",
        home=codex_home, cwd=tmp_path, HOME=str(tmp_path),
    )  # fmt: skip
    assert second.code == 0, second.stderr
    later = model_requests(emulator)[2]  # the second run's first request
    offered = [t for t in later["tools"] if t.get("name") in COMMAND_TOOLS]
    assert offered == [shell_command_spec()]
    items = [json.loads(line) for line in second.stdout.splitlines()]
    commands = [
        e["item"]
        for e in items
        if e["type"] == "item.completed" and e["item"]["type"] == "command_execution"
    ]
    assert len(commands) == 1
    assert commands[0]["exit_code"] == 0 and commands[0]["aggregated_output"] == "hi\n"
    # `shell` comes back for models whose catalog entry is the older kind (shell_type default).
    third = await run_cli(
        *flags, "-m", "gpt-5.1-codex", "--disable", "unified_exec", "hi",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert third.code == 0, third.stderr
    assert command_tools_offered(emulator, 4) == ["shell"]


async def test_shell_command_runs_the_string_with_the_users_shell(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    emulator.enqueue(
        Reply.function_call("shell_command", {"command": "pwd; echo $0", "workdir": "sub"}),
        Reply.function_call("shell_command", {"command": "echo plain", "login": False}),
        Reply.text("done"),
    )
    events = await one_turn(emulator, shell_command_settings(tmp_path), "go")
    started = [e for e in events if isinstance(e, CommandStarted)]
    assert [e.command for e in started] == [
        ["/bin/bash", "-lc", "pwd; echo $0"],
        ["/bin/bash", "-c", "echo plain"],
    ]
    assert started[0].cwd == str((tmp_path / "sub").resolve())
    first, second = (json.loads(o) for o in outputs(emulator))
    assert first["output"] == f"{(tmp_path / 'sub').resolve()}\n/bin/bash\n"
    assert first["metadata"]["exit_code"] == 0
    assert second["output"] == "plain\n"
    finished = [e for e in events if isinstance(e, CommandFinished)]
    assert [e.exit_code for e in finished] == [0, 0]


async def test_shell_command_arguments_are_checked_and_the_time_limit_kept(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("shell_command", {"command": ["echo", "hi"]}),
        Reply.function_call("shell_command", {"command": "sleep 30", "timeout_ms": 300}),
        Reply.text("done"),
    )
    events = await one_turn(emulator, shell_command_settings(tmp_path), "go")
    invalid, slow = outputs(emulator)
    assert invalid == "invalid arguments: `command` must be a non-empty string"
    assert json.loads(slow)["metadata"]["exit_code"] == 124
    assert [e.timed_out for e in events if isinstance(e, CommandFinished)] == [True]


async def test_shell_command_asks_the_approver_as_shell_does(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    asked: list[ApprovalRequest] = []

    async def decline(request: ApprovalRequest) -> bool:
        asked.append(request)
        return False

    emulator.enqueue(
        Reply.function_call("shell_command", {"command": "touch made"}, call_id="c1"),
        Reply.text("done"),
    )
    session_settings = shell_command_settings(tmp_path, approval_policy="untrusted")
    events = await one_turn(emulator, session_settings, "go", approver=decline)
    assert [r.command for r in asked] == [["/bin/bash", "-lc", "touch made"]]
    assert not (tmp_path / "made").exists()
    assert outputs(emulator) == ["command not run: the user declined to run this command"]
    rejected = [e for e in events if isinstance(e, CommandRejected)]
    assert len(rejected) == 1 and rejected[0].declined_by_user


async def test_shell_command_is_confined_by_the_sandbox(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("shell_command", {"command": "touch made"}),
        Reply.text("done"),
    )
    await one_turn(emulator, shell_command_settings(tmp_path, sandbox_mode="read-only"), "go")
    assert not (tmp_path / "made").exists()
    assert json.loads(outputs(emulator)[0])["metadata"]["exit_code"] != 0


async def test_shell_command_apply_patch_heredoc_is_applied_by_the_engine(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch"
    emulator.enqueue(
        Reply.function_call("shell_command", {"command": f"apply_patch <<'EOF'\n{patch}\nEOF\n"}),
        Reply.text("done"),
    )
    events = await one_turn(emulator, shell_command_settings(tmp_path), "go")
    assert (tmp_path / "notes.txt").read_text() == "hello\n"
    # Applied by the engine, not run as a command.
    assert not [e for e in events if isinstance(e, CommandStarted)]
    assert "notes.txt" in outputs(emulator)[0]


async def test_a_call_to_a_command_tool_not_offered_is_answered_with_the_one_offered(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("shell", {"command": ["echo", "hi"]}),
        Reply.function_call("shell_command", {"command": "echo hi"}),
        Reply.text("done"),
    )
    await one_turn(emulator, settings(tmp_path), "go")
    assert outputs(emulator) == [
        "unsupported tool 'shell'; use `exec_command`",
        "unsupported tool 'shell_command'; use `exec_command`",
    ]
