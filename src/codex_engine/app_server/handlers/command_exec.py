"""``command/exec`` (+ ``/write``, ``/resize``, ``/terminate``): a client runs a standalone
command, in a PTY or with pipes, sandboxed as the model's commands are and confined to the
directories this server works in; output streams as ``command/exec/outputDelta`` or comes back
buffered in the response, which is sent once the process has exited.

Processes are the connection's: they are killed when it closes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.fs import confined
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.app_server.settings import POLICY_TO_MODE
from codex_engine.config.loader import SandboxMode
from codex_engine.core.sandbox import detect_sandbox, sandbox_writable_roots, wrap_command
from codex_engine.core.tools.env_policy import create_env
from codex_engine.core.tools.safety import is_known_safe_command
from codex_engine.core.tools.unified_exec import LiveProcess
from codex_engine.core.tools.unified_exec.process import Stream
from codex_engine.protocol.app_server import (
    CommandExecOutputDeltaNotification,
    CommandExecParams,
    CommandExecProcessParams,
    CommandExecResizeParams,
    CommandExecResponse,
    CommandExecWriteParams,
    EmptyResponse,
)

__all__ = ["stop_all"]

#: Without ``timeoutMs``: the reference's default for a client command.
DEFAULT_TIMEOUT_MS = 10_000
#: Without ``outputBytesCap``: bytes kept (or streamed) per stream.
DEFAULT_OUTPUT_BYTES_CAP = 1024 * 1024
#: Exit code reported for a command killed at its timeout (as ``timeout(1)`` does).
TIMEOUT_EXIT_CODE = 124


class _Run(msgspec.Struct):
    process: LiveProcess
    stdin: bool


class _Capture(msgspec.Struct):
    """One stream's bytes up to the cap; streamed ones are sent, not kept."""

    cap: int | None
    kept: bytearray = msgspec.field(default_factory=bytearray)
    seen: int = 0
    capped: bool = False

    def admit(self, chunk: bytes) -> bytes:
        """The part of ``chunk`` within the cap."""
        if self.cap is None:
            return chunk
        room = max(self.cap - self.seen, 0)
        self.seen += len(chunk)
        if len(chunk) > room:
            self.capped = True
        return chunk[:room]


#: How long a follow-up call waits for the process its ``command/exec`` is still starting.
_START_WAIT_S = 30.0


def _runs(ctx: ServerContext) -> dict[str, asyncio.Future[_Run]]:
    """Process ids to their runs; a run still starting is a future not done yet (a follow-up
    may arrive right behind its ``command/exec``, before the process exists)."""
    runs: dict[str, asyncio.Future[_Run]] = ctx.command_runs
    return runs


def _validate(p: CommandExecParams) -> None:
    if not p.command:
        raise InvalidParamsError("`command` must not be empty")
    streaming = p.tty or p.stream_stdin or p.stream_stdout_stderr
    if streaming and not p.process_id:
        raise InvalidParamsError("`tty`, `streamStdin` and `streamStdoutStderr` need a `processId`")
    if p.size is not None and not p.tty:
        raise InvalidParamsError("`size` is only valid with `tty: true`")
    if p.timeout_ms is not None and p.disable_timeout:
        raise InvalidParamsError("`timeoutMs` cannot be combined with `disableTimeout`")
    if p.output_bytes_cap is not None and p.disable_output_cap:
        raise InvalidParamsError("`outputBytesCap` cannot be combined with `disableOutputCap`")
    if p.timeout_ms is not None and p.timeout_ms < 0:
        raise InvalidParamsError("`timeoutMs` must not be negative")


def _environment(
    base: Mapping[str, str], overrides: Mapping[str, str | None] | None
) -> dict[str, str]:
    env = dict(base)
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


async def _argv(
    ctx: ServerContext, p: CommandExecParams, cwd: Path, mode: SandboxMode, network: bool
) -> list[str]:
    """The command as it must run: confined by bubblewrap unless the sandbox is off; without an
    OS sandbox only commands known to just read run (nobody can approve here)."""
    if mode == "danger-full-access":
        return list(p.command)
    support = await detect_sandbox()
    if not support.available or support.bwrap is None:
        if is_known_safe_command(p.command, at_workspace_root=True):
            return list(p.command)
        raise InvalidRequestError(
            f"no OS sandbox is available here ({support.reason}), so sandbox mode {mode!r} "
            "cannot be enforced; run only commands that read, or pass sandboxPolicy "
            "dangerFullAccess"
        )
    config_roots = ctx.load_config(cwd=cwd).additional_writable_roots
    extra = [Path(r) for r in (p.sandbox_policy or {}).get("writableRoots", []) or []]
    roots = sandbox_writable_roots(cwd, [*config_roots, *extra])
    return await asyncio.to_thread(
        wrap_command,
        p.command,
        mode=mode,
        cwd=cwd,
        writable_roots=roots,
        network=network,
        bwrap=support.bwrap,
    )


@method("command/exec", CommandExecParams)
async def command_exec(ctx: ServerContext, p: CommandExecParams, reply: Reply) -> Any:
    _validate(p)
    process_id = p.process_id
    if process_id is not None and process_id in _runs(ctx):
        raise InvalidRequestError(
            f"processId {process_id!r} is already running on this connection; pick another"
        )
    # Resolved already where confined (symlinks and all); the server's own cwd is real.
    cwd = confined(ctx, p.cwd, "cwd") if p.cwd else Path.cwd()
    started: asyncio.Future[_Run] = asyncio.get_running_loop().create_future()
    if process_id is not None:
        # Before the first await: a follow-up sent right behind this request finds it.
        _runs(ctx)[process_id] = started
    try:
        process = await _start(ctx, p, cwd)
    except BaseException:
        started.cancel()
        if process_id is not None:
            _runs(ctx).pop(process_id, None)
        raise
    started.set_result(_Run(process, stdin=p.stream_stdin or p.tty))
    try:
        return await _finish(ctx, p, process)
    finally:
        if process_id is not None:
            _runs(ctx).pop(process_id, None)
        await process.terminate()


async def _start(ctx: ServerContext, p: CommandExecParams, cwd: Path) -> LiveProcess:
    config = await asyncio.to_thread(ctx.load_config, (), cwd)
    mode: SandboxMode = config.sandbox_mode
    network = False
    if p.sandbox_policy is not None:
        kind = str(p.sandbox_policy.get("type"))
        chosen = POLICY_TO_MODE.get(kind)
        if chosen is None:
            raise InvalidParamsError(
                f"`sandboxPolicy.type` {kind!r} is not supported in codex-engine; use readOnly, "
                "workspaceWrite or dangerFullAccess"
            )
        mode = chosen
        network = p.sandbox_policy.get("networkAccess") is True
    argv = await _argv(ctx, p, cwd, mode, network)
    env = _environment(create_env(ctx.env, config.shell_environment_policy), p.env)
    size = (p.size.rows, p.size.cols) if p.size is not None else (24, 80)
    # A ProcessStartError (a CodexError) answers -32603 with its one line.
    return await LiveProcess.start(
        argv,
        cwd=cwd,
        env=env,
        tty=p.tty,
        size=size,
        stdin=p.stream_stdin or p.tty,
        merge_stderr=False,
    )


async def _finish(ctx: ServerContext, p: CommandExecParams, process: LiveProcess) -> Any:
    """Stream or keep its output until it exits (or times out); the response."""
    streaming = p.tty or p.stream_stdout_stderr
    cap = None if p.disable_output_cap else (p.output_bytes_cap or DEFAULT_OUTPUT_BYTES_CAP)
    captures: dict[Stream, _Capture] = {"stdout": _Capture(cap), "stderr": _Capture(cap)}
    queue: asyncio.Queue[tuple[Stream, bytes, bool] | None] = asyncio.Queue()

    def on_output(chunk: bytes, stream: Stream) -> None:
        capture = captures[stream]
        was_capped = capture.capped
        admitted = capture.admit(chunk)
        if not streaming:
            capture.kept += admitted
        elif admitted or (capture.capped and not was_capped):
            queue.put_nowait((stream, admitted, capture.capped and not was_capped))

    async def pump() -> None:
        while (item := await queue.get()) is not None:
            stream, data, cap_reached = item
            assert p.process_id is not None
            note = CommandExecOutputDeltaNotification(
                process_id=p.process_id,
                stream=stream,
                delta_base64=base64.b64encode(data).decode("ascii"),
                cap_reached=cap_reached,
            )
            await ctx.peer.notify("command/exec/outputDelta", note.to_wire())

    unsubscribe = process.subscribe(on_output)
    sender = asyncio.create_task(pump())
    timeout = None if p.disable_timeout else (p.timeout_ms or DEFAULT_TIMEOUT_MS) / 1000
    timed_out = False
    try:
        try:
            async with asyncio.timeout(timeout):
                exit_code = await process.wait()
        except TimeoutError:
            timed_out = True
            await process.terminate()
            exit_code = TIMEOUT_EXIT_CODE
    finally:
        unsubscribe()
        queue.put_nowait(None)
        # Every delta goes out before the response, as the reference promises.
        with contextlib.suppress(Exception):
            await sender
    del timed_out
    return CommandExecResponse(
        exit_code=exit_code,
        stdout=captures["stdout"].kept.decode("utf-8", errors="replace"),
        stderr=captures["stderr"].kept.decode("utf-8", errors="replace"),
    ).to_wire()


async def _run(ctx: ServerContext, process_id: str) -> _Run:
    pending = _runs(ctx).get(process_id)
    if pending is not None:
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            return await asyncio.wait_for(asyncio.shield(pending), _START_WAIT_S)
    raise InvalidRequestError(
        f"no command/exec process {process_id!r} is running on this connection"
    )


@method("command/exec/write", CommandExecWriteParams)
async def command_exec_write(ctx: ServerContext, p: CommandExecWriteParams, reply: Reply) -> Any:
    run = await _run(ctx, p.process_id)
    if not run.stdin:
        raise InvalidRequestError(
            f"process {p.process_id!r} was started without `streamStdin` (or `tty`); its stdin "
            "cannot be written"
        )
    if p.delta_base64:
        try:
            data = base64.b64decode(p.delta_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParamsError("`deltaBase64` is not valid base64") from None
        try:
            await run.process.write(data)
        except BrokenPipeError:
            raise InvalidRequestError(f"the stdin of process {p.process_id!r} is closed") from None
    if p.close_stdin:
        if run.process.tty:
            # A terminal has no end of its own: end-of-file is the EOF character (Ctrl-D).
            with contextlib.suppress(BrokenPipeError):
                await run.process.write(b"\x04")
        else:
            run.process.close_stdin()
    return EmptyResponse().to_wire()


@method("command/exec/resize", CommandExecResizeParams)
async def command_exec_resize(ctx: ServerContext, p: CommandExecResizeParams, reply: Reply) -> Any:
    run = await _run(ctx, p.process_id)
    try:
        run.process.resize(p.size.rows, p.size.cols)
    except ValueError as exc:
        raise InvalidRequestError(f"cannot resize process {p.process_id!r}: {exc}") from None
    return EmptyResponse().to_wire()


@method("command/exec/terminate", CommandExecProcessParams)
async def command_exec_terminate(
    ctx: ServerContext, p: CommandExecProcessParams, reply: Reply
) -> Any:
    await (await _run(ctx, p.process_id)).process.terminate()
    return EmptyResponse().to_wire()


async def stop_all(ctx: ServerContext) -> None:
    """Kill every process the connection started (it is closing)."""
    pending = list(_runs(ctx).values())
    _runs(ctx).clear()
    runs = [run.result() for run in pending if run.done() and not run.cancelled()]
    await asyncio.gather(*(run.process.terminate() for run in runs), return_exceptions=True)
