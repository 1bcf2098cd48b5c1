"""Unified exec end to end in a session: the emulator scripted as the model calls
``exec_command`` and ``write_stdin``; outputs as the reference formats them, processes kept
between calls and turns, and none left once the session closes."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from codex_engine.core.events import (
    CommandFinished,
    CommandOutputDelta,
    CommandStarted,
    TurnCompleted,
)
from codex_engine.core.session import Session, SessionDeps
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


def unique_outputs(emulator: ResponsesEmulator) -> list[str]:
    """Each call's output once (every request repeats the history before it)."""
    return list(dict.fromkeys(outputs_sent(emulator)))


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


async def test_a_long_command_yields_a_session_id_and_is_polled_until_it_exits(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    script = f"echo started; while [ ! -e {gate} ]; do sleep 0.02; done; echo finished; exit 7"
    emulator.enqueue(exec_call(script, tty=True, yield_time_ms=300), Reply.text("still running"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        first = await run(session, "start it")
        running = parse(outputs_sent(emulator)[0])
        assert running["code"] is None and running["output"] == "started\r\n"
        sid = int(running["sid"])
        # A write while it still runs: nothing new, the same session id. (An empty poll would
        # wait at least 5 s unless the process ends; the test ends it before polling.)
        emulator.enqueue(
            Reply.function_call("write_stdin", {"session_id": sid, "chars": "x"}),
            Reply.text("poked"),
        )
        await run(session, "poke")
        gate.touch()
        emulator.enqueue(
            Reply.function_call("write_stdin", {"session_id": sid, "chars": ""}),
            Reply.text("done"),
        )
        last = await run(session, "poll again")
        await session.aclose()
    outputs = [parse(text) for text in unique_outputs(emulator)]
    # The terminal echoes what was typed; the process keeps running.
    assert outputs[1] == {"code": None, "sid": str(sid), "tokens": "1", "output": "x"}
    assert outputs[2] == {"code": "7", "sid": None, "tokens": "3", "output": "finished\r\n"}
    assert not any(isinstance(e, CommandFinished) for e in first)
    finished = next(e for e in last if isinstance(e, CommandFinished))
    started = next(e for e in first if isinstance(e, CommandStarted))
    assert (finished.call_id, finished.exit_code) == (started.call_id, 7)
    assert finished.output == "started\r\nxfinished\r\n"
    # Polling a process that has ended is told as the reference tells it.
    emulator.enqueue(Reply.function_call("write_stdin", {"session_id": sid}), Reply.text("gone"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        await run(session, "poll a dead one")
    assert outputs_sent(emulator)[-1] == f"write_stdin failed: Unknown process id {sid}"


async def test_a_pty_program_reads_the_line_written_to_it(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        exec_call('read -r line; echo "got:$line"', tty=True, yield_time_ms=300),
        Reply.text("asked"),
    )
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        await run(session, "start it")
        sid = int(parse(outputs_sent(emulator)[0])["sid"])
        emulator.enqueue(
            Reply.function_call(
                "write_stdin", {"session_id": sid, "chars": "hello\n", "yield_time_ms": 3000}
            ),
            Reply.text("done"),
        )
        events = await run(session, "answer it")
        await session.aclose()
    answer = parse(unique_outputs(emulator)[-1])
    assert answer["code"] == "0"
    # The terminal echoes the line, then the program prints what it read.
    assert answer["output"].replace("\r\n", "\n") == "hello\ngot:hello\n"
    deltas = "".join(e.chunk for e in events if isinstance(e, CommandOutputDelta))
    assert "got:hello" in deltas


async def test_without_a_tty_stdin_is_closed_as_the_reference_has_it(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    script = 'read -r line; echo "read:$?"; sleep 30'
    emulator.enqueue(exec_call(script, yield_time_ms=300), Reply.text("started"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        await run(session, "start it")
        started = parse(unique_outputs(emulator)[0])
        # `read` met the end of its input at once instead of waiting.
        assert started["output"] == "read:1\n"
        emulator.enqueue(
            Reply.function_call("write_stdin", {"session_id": int(started["sid"]), "chars": "a"}),
            Reply.text("done"),
        )
        await run(session, "answer it")
        await session.aclose()
    assert unique_outputs(emulator)[-1] == (
        "write_stdin failed: stdin is closed for this session; rerun exec_command with tty=true "
        "to keep stdin open"
    )


async def test_output_is_cut_to_max_output_tokens_keeping_its_start_and_end(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(exec_call("seq 1 2000", max_output_tokens=10), Reply.text("done"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        events = await run(session, "count")
        await session.aclose()
    result = parse(outputs_sent(emulator)[0])
    full = "".join(f"{n}\n" for n in range(1, 2001))
    assert result["tokens"] == str(-(-len(full) // 4))
    # 10 tokens = 40 bytes: 20 from the start, 20 from the end, the rest counted in tokens.
    removed = -(-(len(full) - 40) // 4)
    assert result["output"] == f"{full[:20]}…{removed} tokens truncated…{full[-20:]}"
    # The command's record keeps all of it.
    finished = next(e for e in events if isinstance(e, CommandFinished))
    assert finished.output == full


async def test_processes_left_running_are_killed_when_the_session_closes(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        exec_call("sleep 300 & sleep 300", yield_time_ms=250),
        exec_call("sleep 301", tty=True, yield_time_ms=250),
        Reply.text("left them running"),
    )
    before = set(children_of(os.getpid()))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        await run(session, "start two")
        assert len(session.tool_dispatch.unified_exec.store) == 2
        running = set(children_of(os.getpid())) - before
        assert len(running) >= 4  # two shells, three sleeps (one shell may exec its sleep)
        await session.aclose()
    assert set(children_of(os.getpid())) - before == set()
    assert len(session.tool_dispatch.unified_exec.store) == 0


async def test_a_command_that_cannot_start_is_told_to_the_model(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(exec_call("true", workdir="missing/dir"), Reply.text("done"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        events = await run(session, "go")
    assert unique_outputs(emulator)[0] == (
        f"exec_command failed: the working directory {tmp_path / 'missing/dir'} does not exist"
    )
    assert not any(isinstance(e, CommandStarted) for e in events)
