"""The ``exec_command`` and ``write_stdin`` tools of one session: approval and sandbox as the
``shell`` tool decides them, processes kept alive across calls (by session id), and each command
reported with the same command events as ``shell``.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from codex_engine.core.approvals import ApprovalRequest, automatic_decision
from codex_engine.core.events import (
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    TurnEvent,
)
from codex_engine.core.sandbox import SandboxSupport, sandbox_writable_roots, wrap_command
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import run_apply_patch
from codex_engine.core.tools.patch_invocation import patch_invocation
from codex_engine.core.tools.shell import ShellCall
from codex_engine.core.tools.shell_call import USER_DECLINED, ShellTool
from codex_engine.core.tools.shell_script import split_shell_script
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.core.tools.unified_exec.output import DEFAULT_MAX_OUTPUT_TOKENS, format_response
from codex_engine.core.tools.unified_exec.process import (
    LiveProcess,
    OutputListener,
    ProcessStartError,
    Stream,
)
from codex_engine.core.tools.unified_exec.spec import (
    EXEC_COMMAND,
    WRITE_STDIN,
    exec_command_spec,
    write_stdin_spec,
)
from codex_engine.core.tools.unified_exec.store import ProcessEntry, ProcessStore
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["UNIFIED_EXEC_ENV", "UnifiedExecTool", "unified_exec_env"]

#: Set on every unified-exec command (the reference's): no colours or pagers a model cannot use.
UNIFIED_EXEC_ENV = {
    "NO_COLOR": "1",
    "TERM": "dumb",
    "LANG": "C.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "COLORTERM": "",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GH_PAGER": "cat",
    "CODEX_CI": "1",
}
STDIN_CLOSED = (
    "stdin is closed for this session; rerun exec_command with tty=true to keep stdin open"
)
_EXEC_YIELD_MS = (10_000, 250, 30_000)  # default, min, max
_WRITE_YIELD_MS = (250, 250, 30_000)
_POLL_YIELD_MS = (5_000, 5_000, 300_000)  # an empty write_stdin: a poll waits longer


def unified_exec_env(base: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a unified-exec process: the session's (policy applied) plus ours."""
    return {**(dict(os.environ) if base is None else dict(base)), **UNIFIED_EXEC_ENV}


class ExecArgs(msgspec.Struct, frozen=True):
    cmd: str
    workdir: Path
    shell: str
    login: bool
    tty: bool
    yield_ms: float
    max_tokens: int
    escalate: bool
    justification: str | None
    prefix_rule: tuple[str, ...] | None

    @property
    def argv(self) -> list[str]:
        return [self.shell, "-lc" if self.login else "-c", self.cmd]


class UnifiedExecTool:
    """``exec_command`` + ``write_stdin``: the processes a session's commands left running."""

    def __init__(self, sandbox: SandboxSupport | None = None) -> None:
        #: Decides approval and sandbox exactly as the ``shell`` tool does.
        self._gate = ShellTool(sandbox)
        self.store = ProcessStore()
        #: Command prefixes approved (``prefix_rule``) to run outside the sandbox this session.
        self._escalated_prefixes: set[tuple[str, ...]] = set()

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [exec_command_spec(), write_stdin_spec()]

    def handles(self, name: str) -> bool:
        return name in (EXEC_COMMAND, WRITE_STDIN)

    async def aclose(self) -> None:
        """Kill every process still running (the session is closing)."""
        await self.store.close()

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        try:
            raw = _arguments(call.arguments)
            if call.name == WRITE_STDIN:
                output = await self._write_stdin(raw, ctx)
            else:
                output = await self._exec_command(call.call_id, raw, ctx)
        except ValueError as exc:
            output = f"invalid arguments: {exc}"
        return FunctionCallOutput(call_id=call.call_id, output=output)

    async def _exec_command(self, call_id: str, raw: Mapping[str, Any], ctx: ToolContext) -> str:
        settings = ctx.settings
        args = _exec_args(raw, settings)
        argv = args.argv
        if (patch := patch_invocation(argv)) is not None:
            # The engine applies patches itself, as for the shell tool.
            workdir = args.workdir / patch.workdir if patch.workdir else args.workdir
            return await run_apply_patch(call_id, patch.patch, workdir, ctx)
        refusal, bwrap = await self._permission(call_id, args, ctx)
        if refusal is not None:
            ctx.emit(
                CommandRejected(
                    call_id,
                    argv,
                    refusal,
                    str(args.workdir),
                    declined_by_user=refusal == USER_DECLINED,
                )
            )
            return f"command not run: {refusal}"
        runnable = argv
        if bwrap is not None:
            runnable = await asyncio.to_thread(
                wrap_command,
                argv,
                mode=settings.sandbox_mode,
                cwd=args.workdir,
                writable_roots=sandbox_writable_roots(settings.cwd, settings.extra_writable_roots),
                network=settings.network_access,
                bwrap=bwrap,
            )
        started = time.monotonic()
        try:
            # Without a terminal stdin is /dev/null (as the reference): nothing waits for input.
            process = await LiveProcess.start(
                runnable,
                cwd=args.workdir,
                env=unified_exec_env(settings.shell_env),
                tty=args.tty,
                stdin=args.tty,
            )
        except ProcessStartError as exc:
            return f"exec_command failed: {exc}"
        entry = ProcessEntry(self.store.new_id(), process, call_id, argv)
        ctx.emit(CommandStarted(call_id, argv, str(args.workdir), str(entry.session_id)))
        return await self._collect(entry, ctx, args.yield_ms, args.max_tokens, started, new=True)

    async def _write_stdin(self, raw: Mapping[str, Any], ctx: ToolContext) -> str:
        session_id = raw.get("session_id")
        if not isinstance(session_id, int | float) or isinstance(session_id, bool):
            raise ValueError("`session_id` must be a number")
        chars = raw.get("chars", "")
        if not isinstance(chars, str):
            raise ValueError("`chars` must be a string")
        entry = self.store.get(int(session_id))
        if entry is None:
            return f"write_stdin failed: Unknown process id {int(session_id)}"
        started = time.monotonic()
        if chars and not entry.process.has_exited:
            try:
                if not entry.process.tty:
                    # As the reference: without a terminal the process has no stdin to write.
                    raise BrokenPipeError
                await entry.process.write(chars.encode("utf-8"))
            except BrokenPipeError:
                return f"write_stdin failed: {STDIN_CLOSED}"
        limits = _WRITE_YIELD_MS if chars else _POLL_YIELD_MS
        yield_ms = _clamp(raw.get("yield_time_ms"), *limits)
        max_tokens = _max_tokens(raw.get("max_output_tokens"))
        return await self._collect(entry, ctx, yield_ms, max_tokens, started, new=False)

    async def _collect(
        self,
        entry: ProcessEntry,
        ctx: ToolContext,
        yield_ms: float,
        max_tokens: int,
        started: float,
        *,
        new: bool,
    ) -> str:
        """Output until the process exits or ``yield_ms`` pass; its end reported if it ended."""
        process = entry.process
        unsubscribe = process.subscribe(_delta_forwarder(entry.call_id, ctx.emit))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + yield_ms / 1000
        collected = bytearray()
        try:
            while True:
                await process.wait_output_or_exit(deadline)
                collected += process.take_output()
                if process.has_exited or loop.time() >= deadline:
                    break
        except asyncio.CancelledError:
            if new:
                await process.terminate()
            raise
        finally:
            unsubscribe()
        text = collected.decode("utf-8", errors="replace")
        exit_code = process.exit_code
        if exit_code is None:
            if new:
                await self.store.add(entry)
            session_id: int | None = entry.session_id
        else:
            session_id = None
            self.store.remove(entry.session_id)
            # What it left running in its group ends with it, and its terminal is closed.
            await process.terminate()
            self._report_finished(entry, exit_code, ctx)
        tool = EXEC_COMMAND if new else WRITE_STDIN
        ctx.metrics.tool_call(tool, exit_code in (None, 0), (time.monotonic() - started) * 1000)
        return format_response(
            wall_time_s=time.monotonic() - started,
            output=text,
            max_output_tokens=max_tokens,
            exit_code=exit_code,
            session_id=session_id,
        )

    def _report_finished(self, entry: ProcessEntry, exit_code: int, ctx: ToolContext) -> None:
        if entry.finished_reported:
            return
        entry.finished_reported = True
        transcript = entry.process.transcript.take().decode("utf-8", errors="replace")
        ctx.emit(
            CommandFinished(
                entry.call_id,
                entry.command,
                exit_code,
                transcript,
                time.monotonic() - entry.process.started_at,
            )
        )

    async def _permission(
        self, call_id: str, args: ExecArgs, ctx: ToolContext
    ) -> tuple[str | None, str | None]:
        """``(refusal, bwrap)`` as :meth:`ShellTool.permission`; ``require_escalated`` asks to
        run outside the sandbox (remembering an approved ``prefix_rule`` for the session)."""
        shell = ShellCall(args.argv, args.workdir, 0.0)
        settings = ctx.settings
        if not args.escalate or settings.sandbox_mode == "danger-full-access":
            return await self._gate.permission(call_id, shell, ctx)
        argv = _simple_argv(args.cmd)
        if argv is not None and any(argv[: len(p)] == p for p in self._escalated_prefixes):
            return None, None
        reason = args.justification or "the command asks to run outside the sandbox"
        policy = settings.approval_policy
        if policy != "never":
            auto = automatic_decision(
                ctx.approvals_reviewer, sandboxed=False, sandbox_mode=settings.sandbox_mode
            )
            if auto is not None:
                return (None if auto.approved else auto.reason), None
        if ctx.approver is None or policy == "never":
            return (
                f"running outside the sandbox needs approval, and no approval can be given here "
                f"(approval policy {policy!r}); run it inside the sandbox, or run with "
                "--dangerously-bypass-approvals-and-sandbox to allow it"
            ), None
        approved = await ctx.approver(
            ApprovalRequest(
                call_id,
                args.argv,
                args.workdir,
                reason,
                sandboxed=False,
                sandbox_mode=settings.sandbox_mode,
                prefix_rule=args.prefix_rule,
            )
        )
        if not approved:
            return USER_DECLINED, None
        if args.prefix_rule:
            self._escalated_prefixes.add(args.prefix_rule)
        return None, None


def _delta_forwarder(call_id: str, emit: Callable[[TurnEvent], None]) -> OutputListener:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def forward(chunk: bytes, stream: Stream) -> None:
        if text := decoder.decode(chunk):
            emit(CommandOutputDelta(call_id, text))

    return forward


def _simple_argv(cmd: str) -> tuple[str, ...] | None:
    commands = split_shell_script(cmd)
    return tuple(commands[0]) if commands is not None and len(commands) == 1 else None


def _arguments(arguments: str) -> Mapping[str, Any]:
    try:
        raw: Any = json.loads(arguments) if arguments.strip() else {}
    except ValueError as exc:
        raise ValueError(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ValueError("arguments must be a JSON object")
    return raw


def _clamp(value: Any, default: int, low: int, high: int) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return float(default)
    return float(min(max(value, low), high))


def _max_tokens(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return DEFAULT_MAX_OUTPUT_TOKENS


def _exec_args(raw: Mapping[str, Any], settings: SessionSettings) -> ExecArgs:
    cmd = raw.get("cmd")
    if not isinstance(cmd, str) or not cmd.strip():
        raise ValueError("`cmd` must be a non-empty string")
    workdir = raw.get("workdir")
    path = settings.cwd / workdir if isinstance(workdir, str) and workdir else settings.cwd
    env = settings.shell_env if settings.shell_env is not None else os.environ
    shell = raw.get("shell")
    if not isinstance(shell, str) or not shell:
        shell = env.get("SHELL") or "/bin/bash"
    prefix = raw.get("prefix_rule")
    prefix_rule = (
        tuple(prefix)
        if isinstance(prefix, list) and prefix and all(isinstance(w, str) for w in prefix)
        else None
    )
    justification = raw.get("justification")
    return ExecArgs(
        cmd=cmd,
        workdir=path.resolve(),
        shell=shell,
        login=raw.get("login") is not False,
        tty=raw.get("tty") is True,
        yield_ms=_clamp(raw.get("yield_time_ms"), *_EXEC_YIELD_MS),
        max_tokens=_max_tokens(raw.get("max_output_tokens")),
        escalate=raw.get("sandbox_permissions") == "require_escalated",
        justification=justification if isinstance(justification, str) else None,
        prefix_rule=prefix_rule,
    )
