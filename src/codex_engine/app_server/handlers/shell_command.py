"""``thread/shellCommand``: the user runs a command line in the thread's cwd, as 0.163 does.

Answered at once; the command then runs as a turn of its own with no user message: one
``commandExecution`` item (``source: userShell``, output streamed as
``item/commandExecution/outputDelta``). It runs with the user's full access (not the thread's
sandbox) under ``bash -lc``, stdout and stderr merged, for at most ``timeoutMs`` (default one
hour). The model learns of it in its next turn: a ``<user_shell_command>`` message with the
command, exit code, duration and output goes into the thread's history (and rollout).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from typing import Any

import msgspec

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.turns import start_task
from codex_engine.app_server.history import USER_SHELL_COMMAND_EVENT
from codex_engine.app_server.projector import command_actions, command_text
from codex_engine.app_server.registry import InvalidParamsError, method
from codex_engine.app_server.state import ThreadState, TurnRecord
from codex_engine.protocol.app_server import CommandExecutionItem
from codex_engine.protocol.app_server.command_exec import ThreadShellCommandParams
from codex_engine.protocol.items import user_message

__all__ = ["shell_command_message"]

DEFAULT_TIMEOUT_MS = 60 * 60 * 1000
_CHUNK = 64 * 1024


def shell_command_message(command: str, exit_code: int, duration_s: float, output: str) -> str:
    """What the model reads about a command the user ran (the reference's tags and fields)."""
    return (
        "<user_shell_command>\n"
        f"<command>\n{command}\n</command>\n"
        "<result>\n"
        f"Exit code: {exit_code}\n"
        f"Duration: {duration_s:.4f} seconds\n"
        f"Output:\n{output}\n"
        "</result>\n"
        "</user_shell_command>"
    )


def _actions(command: str, argv: list[str]) -> list[dict[str, Any]]:
    """What the command does, as the reference shows it: an unparsed one names the user's own
    command line, not the shell wrapped around it."""
    actions = command_actions(argv)
    if len(actions) == 1 and actions[0].get("type") == "unknown":
        return [{"type": "unknown", "command": command}]
    return actions


def _shell() -> str:
    return "/bin/bash" if os.path.exists("/bin/bash") else "bash"


async def _run_command(
    thread: ThreadState,
    record: TurnRecord,
    item: CommandExecutionItem,
    argv: list[str],
    timeout_s: float,
) -> tuple[int, str]:
    """Run ``argv`` streaming its output as deltas; (exit code, output). -1 when it timed out."""
    env = dict(thread.settings.shell_env) if thread.settings.shell_env is not None else None
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=thread.settings.cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    chunks: list[str] = []

    async def pump() -> None:
        assert process.stdout is not None
        while data := await process.stdout.read(_CHUNK):
            text = data.decode("utf-8", errors="replace")
            chunks.append(text)
            delta = {"threadId": thread.id, "turnId": record.id, "itemId": item.id, "delta": text}
            await thread.peer.notify("item/commandExecution/outputDelta", delta)

    try:
        await asyncio.wait_for(asyncio.gather(pump(), process.wait()), timeout_s)
    except TimeoutError:
        _kill(process.pid)
        await process.wait()
        return -1, f"command timed out after {int(timeout_s * 1000)} ms"
    except asyncio.CancelledError:
        _kill(process.pid)
        raise
    return process.returncode or 0, "".join(chunks)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _shell_work(
    thread: ThreadState, record: TurnRecord, command: str, timeout_ms: int
) -> None:
    argv = [_shell(), "-lc", command]
    item = CommandExecutionItem(
        id=str(uuid.uuid4()),
        command=command_text(argv),
        cwd=str(thread.settings.cwd),
        source="userShell",
        status="inProgress",
        command_actions=_actions(command, argv),
    )
    projector = record.projector
    await thread.peer.notify(*projector.started(item))
    started = time.monotonic()
    exit_code, output = -1, ""
    try:
        exit_code, output = await _run_command(thread, record, item, argv, timeout_ms / 1000)
    finally:
        duration = time.monotonic() - started
        done = msgspec.structs.replace(
            item,
            status="completed" if exit_code == 0 else "failed",
            aggregated_output=output,
            exit_code=exit_code,
            duration_ms=int(duration * 1000),
        )
        await _remember(
            thread, record, done, shell_command_message(command, exit_code, duration, output)
        )
        await thread.peer.notify(*projector.finished(done))


async def _remember(
    thread: ThreadState, record: TurnRecord, item: CommandExecutionItem, text: str
) -> None:
    """The command in the thread's history: the model's note and, in the rollout, the item."""
    session = thread.session
    assert session is not None
    session.ensure_prefix()
    recorder = session.recorder
    if recorder is not None:
        recorder.record("turn_context", {"turn_id": record.id, "cwd": str(thread.settings.cwd)})
        recorder.record("event_msg", {"type": USER_SHELL_COMMAND_EVENT, "item": item.to_wire()})
    session.remember([user_message(text)])
    if recorder is not None:
        recorder.record(
            "event_msg", {"type": "turn_complete", "turn_id": record.id, "status": "completed"}
        )
        await recorder.flush()


@method("thread/shellCommand", ThreadShellCommandParams)
async def thread_shell_command(
    ctx: ServerContext, p: ThreadShellCommandParams, reply: Reply
) -> Any:
    thread = ctx.thread(p.thread_id)
    if not p.command.strip():
        raise InvalidParamsError("`command` must not be empty")
    timeout_ms = DEFAULT_TIMEOUT_MS if p.timeout_ms is None else p.timeout_ms
    if timeout_ms < 0:
        raise InvalidParamsError("`timeoutMs` must not be negative (0 times out at once)")
    record = start_task(thread, lambda record: _shell_work(thread, record, p.command, timeout_ms))
    try:
        await reply.result({})
    finally:
        record.responded.set()
