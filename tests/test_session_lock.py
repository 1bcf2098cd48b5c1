"""One writer per session: the rollout's flock against second writers in this process, in other
processes (`exec resume`, app-server `thread/resume`), after crashes, and across child processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.core.rollout import RolloutRecorder, SessionMeta, fork_rollout, load_rollout
from codex_engine.emulator import ResponsesEmulator
from codex_engine.errors import CodexError, SessionLockedError
from tests.conftest import TEST_MODEL, Run, cli_env, run_cli
from tests.test_app_server import RawClient

THREAD = "019a0000-0000-7000-8000-00000000beef"


def files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_error_line(result: Run) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def refusal(thread_id: str, pid: int) -> str:
    return (
        f"session {thread_id} is open in another process (pid {pid}); wait for it to finish "
        f"or fork it: codex-engine exec fork {thread_id}"
    )


# -- the recorder, in this process and against a holder process ------------------------------

_HOLDER = """
import asyncio, sys
from pathlib import Path
from codex_engine.core.rollout import RolloutRecorder

async def main() -> None:
    recorder = await RolloutRecorder.resume(Path(sys.argv[1]))
    print("held", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await recorder.close()

asyncio.run(main())
"""


@contextlib.asynccontextmanager
async def holder(path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Another process with ``path`` open for writing, until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _HOLDER,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert await process.stdout.readline() == b"held\n"
        yield process
    finally:
        process.stdin.close()
        assert await process.wait() == 0


async def new_rollout(codex_home: Path) -> Path:
    recorder = await RolloutRecorder.create(
        codex_home, SessionMeta(id=THREAD, cwd="/w", originator="t", cli_version="0")
    )
    await recorder.append("event_msg", {"type": "user_message", "message": "hi"})
    await recorder.close()
    return recorder.path


async def test_a_second_writer_in_this_process_is_refused_until_the_first_closes(
    codex_home: Path,
) -> None:
    path = await new_rollout(codex_home)
    first = await RolloutRecorder.resume(path)
    await first.append("event_msg", {"type": "agent_message", "message": "one"})
    before = path.read_bytes()
    with pytest.raises(SessionLockedError, match="already open in this process") as caught:
        await RolloutRecorder.resume(path)
    assert isinstance(caught.value, CodexError)
    assert caught.value.thread_id == THREAD
    assert f"codex-engine exec fork {THREAD}" in str(caught.value)
    assert path.read_bytes() == before
    # Readers are not writers: loading and forking the open session still work.
    assert load_rollout(path).meta.id == THREAD
    forked = fork_rollout(path, codex_home, new_thread_id="forked-1", cut_after_user_turns=None)
    assert load_rollout(forked).meta.forked_from_id == THREAD
    await first.close()

    second = await RolloutRecorder.resume(path)
    await second.append("event_msg", {"type": "agent_message", "message": "two"})
    await second.close()
    assert path.read_bytes().startswith(before)


async def test_another_process_holding_the_file_blocks_resume_and_its_tail_repair(
    codex_home: Path,
) -> None:
    path = await new_rollout(codex_home)
    async with holder(path) as process:
        # What a writer in the middle of a line looks like from outside; must not be "repaired".
        with path.open("ab") as f:
            f.write(b'{"timestamp":"t","type":"event_msg","payload":{"type":"agent_mess')
        before = files_under(codex_home)
        with pytest.raises(SessionLockedError) as caught:
            await RolloutRecorder.resume(path)
        assert str(caught.value) == refusal(THREAD, process.pid)
        assert caught.value.pid == process.pid
        assert files_under(codex_home) == before
    resumed = await RolloutRecorder.resume(path)
    assert resumed.warnings and "incomplete last line" in resumed.warnings[0]
    await resumed.close()


async def test_a_fork_is_locked_from_the_moment_it_exists(codex_home: Path) -> None:
    source = await new_rollout(codex_home)
    fork = await RolloutRecorder.fork(
        source, codex_home, new_thread_id="forked-2", cut_after_user_turns=None
    )
    with pytest.raises(SessionLockedError, match="session forked-2 is already open"):
        await RolloutRecorder.resume(fork.path)
    await fork.close()
    await (await RolloutRecorder.resume(fork.path)).close()


async def test_child_processes_do_not_inherit_the_lock(codex_home: Path) -> None:
    path = await new_rollout(codex_home)
    recorder = await RolloutRecorder.resume(path)
    # close_fds=False hands a child every inheritable descriptor: the rollout's must not be one.
    child = await asyncio.create_subprocess_exec("sleep", "60", close_fds=False)
    try:
        await recorder.close()
        async with holder(path):  # would fail if the sleeping child still held the lock
            pass
        assert child.returncode is None
    finally:
        child.kill()
        await child.wait()


# -- real processes: exec against exec, crashes, the app-server ------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def flags(emulator: ResponsesEmulator) -> list[str]:
    return [
        "-c",
        f"model={TEST_MODEL}",
        "-c",
        "model_provider=emulator",
        "-c",
        f"model_providers.emulator.base_url={emulator.base_url}",
        "-s",
        "danger-full-access",
        "--skip-git-repo-check",
    ]


async def new_session(emulator: ResponsesEmulator, home: Path, repo: Path, text: str) -> str:
    before = set((home / "sessions").rglob("*.jsonl"))
    result = await run_cli("exec", *flags(emulator), text, home=home, cwd=repo)
    assert result.code == 0, result.stderr
    (created,) = set((home / "sessions").rglob("*.jsonl")) - before
    return load_rollout(created).meta.id


def rollout_of(home: Path, thread_id: str) -> Path:
    (path,) = (home / "sessions").rglob(f"*{thread_id}.jsonl")
    return path


class HeldTurn:
    """`exec resume ID` whose turn runs a command that waits on a FIFO: the session stays open
    (mid-turn) from :meth:`start` until :meth:`release`."""

    def __init__(self, emulator: ResponsesEmulator, home: Path, repo: Path, tmp: Path) -> None:
        self.emulator, self.home, self.repo = emulator, home, repo
        self.ready, self.go = tmp / "ready.fifo", tmp / "go.fifo"
        os.mkfifo(self.ready)
        os.mkfifo(self.go)
        self.process: asyncio.subprocess.Process | None = None
        self.command_pid = 0

    async def start(self, thread_id: str) -> asyncio.subprocess.Process:
        # `exec cat` keeps the shell's pid: the command's pid is the one written to `ready`.
        command = f"echo $$ > {self.ready}; exec cat {self.go}"
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_engine",
            "exec",
            *flags(self.emulator),
            # `shell` waits for the command (exec_command would yield after 10 s and end the
            # turn): the session stays mid-turn until release.
            "--disable",
            "unified_exec",
            "resume",
            thread_id,
            f"run `{command}`",
            cwd=self.repo,
            env=cli_env(self.home),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        reading = asyncio.ensure_future(asyncio.to_thread(self.ready.read_text))
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait([reading, exited], return_when=asyncio.FIRST_COMPLETED)
        if not reading.done():
            # Unblock the reader thread before failing.
            os.close(os.open(self.ready, os.O_WRONLY | os.O_NONBLOCK))
            await reading
            _out, err = await self.process.communicate()
            pytest.fail(f"the held turn ended early: {err.decode()}")
        exited.cancel()
        self.command_pid = int(reading.result())
        return self.process

    async def release(self) -> None:
        await asyncio.to_thread(self.go.write_text, "done\n")


async def test_exec_resume_of_a_session_open_in_another_exec_is_refused_and_writes_nothing(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, tmp_path: Path
) -> None:
    other = await new_session(emulator, codex_home, repo, "another session")
    thread_id = await new_session(emulator, codex_home, repo, "first turn")
    path = rollout_of(codex_home, thread_id)
    held = HeldTurn(emulator, codex_home, repo, tmp_path)
    first = await held.start(thread_id)

    before = files_under(codex_home)
    for target in (["resume", thread_id], ["resume", "--last"]):
        second = await run_cli(
            "exec", *flags(emulator), *target, "intruder", home=codex_home, cwd=repo
        )
        assert second.code == 1
        assert one_error_line(second) == "error: " + refusal(thread_id, first.pid)
        assert second.stdout == ""
    assert files_under(codex_home) == before

    # Readers are not blocked: another session resumes, and the open one can be forked.
    again = await run_cli(
        "exec", *flags(emulator), "resume", other, "back to the other", home=codex_home, cwd=repo
    )
    assert again.code == 0, again.stderr
    forked = await run_cli(
        "exec", *flags(emulator), "fork", thread_id, "in a fork", home=codex_home, cwd=repo
    )
    assert forked.code == 0, forked.stderr

    await held.release()
    _out, err = await first.communicate()
    assert first.returncode == 0, err.decode()
    after = await run_cli(
        "exec", *flags(emulator), "resume", thread_id, "after it", home=codex_home, cwd=repo
    )
    assert after.code == 0, after.stderr
    text = path.read_text()
    assert "after it" in text and "intruder" not in text


async def test_a_crashed_session_is_free_though_its_command_still_runs(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, tmp_path: Path
) -> None:
    thread_id = await new_session(emulator, codex_home, repo, "first turn")
    held = HeldTurn(emulator, codex_home, repo, tmp_path)
    first = await held.start(thread_id)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    try:
        os.kill(held.command_pid, 0)  # the model's command outlives codex-engine
        after = await run_cli(
            "exec",
            *flags(emulator),
            "resume",
            thread_id,
            "after the crash",
            home=codex_home,
            cwd=repo,
        )
        assert after.code == 0, after.stderr
        assert "after the crash" in rollout_of(codex_home, thread_id).read_text()
    finally:
        await held.release()


async def test_app_server_and_exec_refuse_a_thread_the_other_process_has_open(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    holder_server = await RawClient.start(codex_home, repo, emulator)
    await holder_server.initialize()
    started = await holder_server.result("thread/start", {})
    thread_id = started["thread"]["id"]
    turn = await holder_server.result(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hello"}]}
    )
    await holder_server.turn_completed(turn["turn"]["id"])
    pid = holder_server.process.pid

    before = files_under(codex_home)
    refused = await run_cli(
        "exec", *flags(emulator), "resume", thread_id, "intruder", home=codex_home, cwd=repo
    )
    assert refused.code == 1
    assert one_error_line(refused) == "error: " + refusal(thread_id, pid)
    # The holder itself resumes its own loaded thread as before.
    rejoined = await holder_server.result("thread/resume", {"threadId": thread_id})
    assert rejoined["thread"]["id"] == thread_id

    other_server = await RawClient.start(codex_home, repo, emulator)
    try:
        await other_server.initialize()
        listed = await other_server.result("thread/list", {})
        assert thread_id in [t["id"] for t in listed["data"]]
        read = await other_server.result("thread/read", {"threadId": thread_id})
        assert read["thread"]["id"] == thread_id
        error = await other_server.error("thread/resume", {"threadId": thread_id})
        assert error["code"] == -32600
        assert error["message"] == "thread/resume failed: " + refusal(thread_id, pid)
        assert files_under(codex_home) == before

        assert await holder_server.close() == 0
        resumed = await other_server.result("thread/resume", {"threadId": thread_id})
        assert resumed["thread"]["id"] == thread_id
    finally:
        assert await other_server.close() == 0
    assert holder_server.schema_errors() == [] and other_server.schema_errors() == []
