"""Unified exec end to end in a session: the emulator scripted as the model calls
``exec_command`` and ``write_stdin``; outputs as the reference formats them, processes kept
between calls and turns, and none left once the session closes."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config.catalog import find_model_info
from codex_engine.core.approvals import ApprovalRequest
from codex_engine.core.events import (
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    TurnCompleted,
)
from codex_engine.core.sandbox import detect_sandbox
from codex_engine.core.session import Session, SessionDeps
from codex_engine.core.tool_dispatch import command_tool
from codex_engine.core.tools.unified_exec import MAX_PROCESSES
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import make_client
from tests.test_session_turns import outputs_sent, run, settings

_HEADER = re.compile(
    r"\AChunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\n"
    r"(?:Process exited with code (?P<code>-?\d+)|Process running with session ID (?P<sid>\d+))\n"
    r"Original token count: (?P<tokens>\d+)\nOutput:\n(?P<output>.*)\Z",
    re.DOTALL,
)


def parse(output: str) -> dict[str, Any]:
    found = _HEADER.match(output)
    assert found is not None, output
    return found.groupdict()


def uexec(tmp_path: Path, **overrides: Any) -> Any:
    # A HOME of its own: a login shell must not read the machine's profile (one here waits on
    # stdin), and so the tests see only what they start.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    return settings(tmp_path, unified_exec=True, shell_env=env, **overrides)


def exec_call(cmd: str, **args: Any) -> Reply:
    return Reply.function_call("exec_command", {"cmd": cmd, **args})


def children_of(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


async def test_a_short_command_returns_its_exit_code_and_output_in_the_reference_shape(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(exec_call("echo hi; exit 3"), Reply.text("done"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        events = await run(session, "go")
        await session.aclose()
    offered = [t.get("name", t["type"]) for t in emulator.requests_of("http")[0].body["tools"]]
    assert offered[:2] == ["exec_command", "write_stdin"] and "shell" not in offered
    result = parse(outputs_sent(emulator)[0])
    assert result == {"code": "3", "sid": None, "tokens": "1", "output": "hi\n"}
    started = next(e for e in events if isinstance(e, CommandStarted))
    assert started.command[1:] == ["-lc", "echo hi; exit 3"]
    finished = next(e for e in events if isinstance(e, CommandFinished))
    assert (finished.call_id, finished.exit_code, finished.output) == (started.call_id, 3, "hi\n")
    assert "".join(e.chunk for e in events if isinstance(e, CommandOutputDelta)) == "hi\n"
    assert isinstance(events[-1], TurnCompleted)
