"""What `exec` leaves on stdout: exactly the final answer, whatever the stream went through.

The CLI runs as a subprocess against the emulator; stdout is a real pipe or a pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.emulator.render import render_events
from codex_engine.emulator.script import IdAllocator, ReplyContext
from tests.conftest import Run, cli_env, emulator_flags, run_cli

FIRST = "first attempt had words that never finish"
SECOND = "The second answer is different from the first one"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def diverging_retry(emulator: ResponsesEmulator) -> None:
    """The first attempt streams two words and breaks off; the retry answers something else."""
    # events 0-3 open the response and the message; 4 and 5 are the first two words
    emulator.enqueue(Reply.text(FIRST, drop_after=6), Reply.text(SECOND))


def _drain(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def run_on_terminal(*args: str, home: Path, cwd: Path) -> Run:
    """Like `run_cli`, but stdout is a pseudo-terminal (stderr stays a pipe)."""
    controller, terminal = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "codex_engine", *args,
            cwd=cwd, env=cli_env(home), stdin=asyncio.subprocess.DEVNULL,
            stdout=terminal, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
    finally:
        os.close(terminal)
    try:
        reading = asyncio.get_running_loop().run_in_executor(None, _drain, controller)
        assert process.stderr is not None
        err = await process.stderr.read()
        await process.wait()
        out = await reading
    finally:
        os.close(controller)
    assert process.returncode is not None
    # the terminal turns "\n" into "\r\n"
    return Run(process.returncode, out.decode().replace("\r\n", "\n"), err.decode())


# -- stdout is a pipe ---------------------------------------------------------------------------


async def test_piped_stdout_is_exactly_the_final_answer_after_a_diverging_retry(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    diverging_retry(emulator)
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    assert result.stdout == SECOND + "\n"
    assert "Reconnecting… 1/" in result.stderr
    assert len(emulator.requests_of("http")) == 2


async def test_piped_stdout_gets_only_the_last_message_and_earlier_ones_go_to_stderr(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    ctx = ReplyContext({}, IdAllocator())
    message = render_events(Reply.text("Let me check the date first."), ctx)
    call = render_events(
        Reply.function_call("shell", {"command": ["bash", "-lc", "echo from-the-tool"]}), ctx
    )
    # one response: the message, then the call (created/in_progress ... completed around both)
    emulator.enqueue(Reply.events([*message[:-1], *call[2:]]))
    result = await run_cli(
        "exec", "-s", "danger-full-access", "--disable", "unified_exec",  # a `shell` call
        *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout == "The command finished. Its output was:\nfrom-the-tool\n"
    assert "Let me check the date first." in result.stderr
    assert "$ echo from-the-tool" in result.stderr


async def test_a_failed_turn_leaves_stdout_empty(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    emulator.enqueue(Reply.text(FIRST, drop_after=6))
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url, "stream_max_retries=0"), "hi",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr


# -- stdout is a terminal -----------------------------------------------------------------------


async def test_terminal_shows_a_notice_and_the_final_answer_whole_after_a_diverging_retry(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    diverging_retry(emulator)
    result = await run_on_terminal(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if "answer changed" in line]
    assert len(notices) == 1, result.stderr
    streamed, final = result.stdout.splitlines()
    assert streamed.startswith("first attempt ") and streamed != SECOND  # what was seen live
    assert final == SECOND
    assert result.stdout.endswith(SECOND + "\n")


async def test_terminal_shows_a_repeated_answer_once_without_a_notice(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    emulator.enqueue(Reply.text(SECOND, drop_after=6), Reply.text(SECOND))
    result = await run_on_terminal(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    assert result.stdout == SECOND + "\n"
    assert "answer changed" not in result.stderr
    assert "Reconnecting… 1/" in result.stderr


async def test_terminal_streams_the_answer(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_on_terminal(
        "exec", *emulator_flags(emulator.base_url), "tell me", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    assert result.stdout.endswith("You said: tell me\n")
    assert result.stdout.count("You said") == 1


# -- --json -------------------------------------------------------------------------------------


async def test_json_agent_message_carries_the_final_text_after_a_diverging_retry(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    diverging_retry(emulator)
    result = await run_cli(
        "exec", "--json", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    events: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    messages = [
        e["item"]["text"]
        for e in events
        if e["type"] == "item.completed" and e["item"]["type"] == "agent_message"
    ]
    assert messages == [SECOND]
    assert any(e["type"] == "error" and "Reconnecting" in e["message"] for e in events)
    assert events[-1]["type"] == "turn.completed"
