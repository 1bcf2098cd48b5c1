"""The ``shell`` tool: its JSON spec, argument parsing, and running a command with limits.

A command runs in its own process group so a timeout or an interrupt ends everything it started.
Output is capped while it is read (memory stays bounded) and truncated for the model per the
model's truncation policy, with the cut marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import msgspec

__all__ = [
    "SHELL_TOOL_NAME",
    "ShellCall",
    "ShellResult",
    "parse_shell_arguments",
    "run_shell",
    "shell_tool_spec",
    "truncate_middle",
]

SHELL_TOOL_NAME = "shell"
DEFAULT_TIMEOUT_S = 60.0
# Held in memory while the command runs; the model sees at most the truncation limit.
_CAPTURE_LIMIT = 1024 * 1024


def shell_tool_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": SHELL_TOOL_NAME,
        "description": (
            "Runs a command on the user's machine and returns its combined stdout and stderr "
            "and exit code. Pass the program and its arguments as an array, e.g. "
            '["bash", "-lc", "ls -la"].'
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "command": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The program and its arguments.",
                },
                "workdir": {
                    "type": "string",
                    "description": "Directory to run in; defaults to the session's directory.",
                },
                "timeout_ms": {
                    "type": "number",
                    "description": "Time limit in milliseconds.",
                },
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    }


class ShellCall(msgspec.Struct, frozen=True):
    command: list[str]
    workdir: Path
    timeout_s: float


class ShellResult(msgspec.Struct, frozen=True):
    exit_code: int
    output: str
    duration_s: float
    timed_out: bool = False


def parse_shell_arguments(arguments: str, cwd: Path) -> ShellCall:
    """Parse the model's JSON arguments; ``ValueError`` with a message the model can act on."""
    try:
        raw: Any = json.loads(arguments) if arguments.strip() else {}
    except ValueError as exc:
        raise ValueError(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ValueError("arguments must be a JSON object with a `command` array")
    command = raw.get("command")
    if isinstance(command, str):
        # Accepted for robustness: a model sometimes sends a string instead of an array.
        command = ["bash", "-lc", command]
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(part, str) for part in command)
    ):
        raise ValueError("`command` must be a non-empty array of strings")
    workdir = raw.get("workdir")
    path = cwd if not isinstance(workdir, str) or not workdir else (cwd / workdir)
    timeout_ms = raw.get("timeout_ms")
    timeout = (
        float(timeout_ms) / 1000
        if isinstance(timeout_ms, int | float)
        and not isinstance(timeout_ms, bool)
        and timeout_ms > 0
        else DEFAULT_TIMEOUT_S
    )
    return ShellCall(command=list(command), workdir=path.resolve(), timeout_s=timeout)


def truncate_middle(text: str, limit_bytes: int) -> str:
    """Keep the head and the tail within ``limit_bytes`` and say how much was cut between."""
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit_bytes:
        return text
    half = max(limit_bytes // 2, 1)
    head = data[:half].decode("utf-8", errors="ignore")
    tail = data[-half:].decode("utf-8", errors="ignore")
    cut = len(data) - len(head.encode()) - len(tail.encode())
    return f"{head}\n[... {cut} bytes truncated ...]\n{tail}"


async def _read_capped(stream: asyncio.StreamReader, on_chunk: Callable[[bytes], None]) -> bytes:
    head = bytearray()
    tail = bytearray()
    dropped = 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        on_chunk(chunk)
        if len(head) < _CAPTURE_LIMIT // 2:
            take = _CAPTURE_LIMIT // 2 - len(head)
            head += chunk[:take]
            chunk = chunk[take:]
        tail += chunk
        if len(tail) > _CAPTURE_LIMIT // 2:
            excess = len(tail) - _CAPTURE_LIMIT // 2
            dropped += excess
            del tail[:excess]
    if dropped:
        return bytes(head) + f"\n[... {dropped} bytes not kept ...]\n".encode() + bytes(tail)
    return bytes(head + tail)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def run_shell(
    call: ShellCall,
    *,
    env: Mapping[str, str] | None = None,
    on_output: Callable[[bytes], None] | None = None,
) -> ShellResult:
    """Run the command; on timeout or cancellation its whole process group is killed."""
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *call.command,
            cwd=str(call.workdir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        if not call.workdir.is_dir():
            # A thread may name a directory that does not exist (yet); say so, not "no bwrap".
            detail = f"the working directory {call.workdir} does not exist or is not a directory"
            return ShellResult(127, f"failed to start {call.command[0]!r}: {detail}", 0.0)
        return ShellResult(127, f"failed to start {call.command[0]!r}: {exc}", 0.0)
    assert process.stdout is not None
    reader = asyncio.ensure_future(_read_capped(process.stdout, on_output or (lambda _: None)))
    timed_out = False
    try:
        async with asyncio.timeout(call.timeout_s):
            await process.wait()
    except TimeoutError:
        timed_out = True
        _kill_group(process)
        await process.wait()
    except asyncio.CancelledError:
        _kill_group(process)
        await process.wait()
        reader.cancel()
        raise
    # The pipe may stay open if the command left a background child holding it.
    try:
        async with asyncio.timeout(1.0):
            raw = await reader
    except TimeoutError:
        _kill_group(process)
        raw = b""
    output = raw.decode("utf-8", errors="replace")
    if timed_out:
        output += f"\n[command timed out after {call.timeout_s:g}s and was killed]"
    code = process.returncode if process.returncode is not None else -1
    return ShellResult(
        exit_code=124 if timed_out else code,
        output=output,
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
    )


def format_for_model(result: ShellResult, limit_bytes: int) -> str:
    """The ``function_call_output`` text: output (truncated) with exit code and duration."""
    return json.dumps(
        {
            "output": truncate_middle(result.output, limit_bytes),
            "metadata": {
                "exit_code": result.exit_code,
                "duration_seconds": round(result.duration_s, 1),
            },
        },
        ensure_ascii=False,
    )


def describe(command: Sequence[str]) -> str:
    """A short human form of the command for terminal output: the script of a shell run with
    ``-c``/``-lc`` (``bash`` or, as exec_command and shell_command run it, ``/bin/bash``)."""
    shells = {"bash", "sh", "zsh"}
    if len(command) == 3 and PurePath(command[0]).name in shells and command[1] in {"-c", "-lc"}:
        return command[2]
    return " ".join(command)
