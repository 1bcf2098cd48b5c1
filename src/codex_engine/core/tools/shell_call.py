"""The ``shell`` tool as a session carries out its calls: may the command run (approval policy,
OS sandbox, the approver), confine it, run it, and report it as command events.

Spec, argument parsing and running a process are in :mod:`codex_engine.core.tools.shell`.
"""

from __future__ import annotations

import asyncio
import codecs

import msgspec

from codex_engine.core.approvals import ApprovalRequest, automatic_decision
from codex_engine.core.events import (
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    WarningEvent,
)
from codex_engine.core.sandbox import (
    SandboxSupport,
    detect_sandbox,
    sandbox_writable_roots,
    wrap_command,
)
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import run_apply_patch
from codex_engine.core.tools.patch_invocation import patch_invocation
from codex_engine.core.tools.safety import is_known_safe_command
from codex_engine.core.tools.shell import (
    SHELL_TOOL_NAME,
    ShellCall,
    format_for_model,
    parse_shell_arguments,
    run_shell,
    shell_tool_spec,
)
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["USER_DECLINED", "ShellTool", "ask_approval"]

USER_DECLINED = "the user declined to run this command"


class ShellTool:
    """The ``shell`` toolset of one session: it remembers the OS sandbox it found and whether
    the user was told there is none. A subclass may offer another argument shape (``name``,
    :meth:`specs`, :meth:`parse`) and share the rest: approval, sandbox, apply_patch, events."""

    #: The tool's name as the model calls it (and as metrics count it).
    name = SHELL_TOOL_NAME

    def __init__(self, sandbox: SandboxSupport | None = None) -> None:
        #: ``None`` until the first command that needs it detects one.
        self._sandbox = sandbox
        self._warned_no_sandbox = False

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [shell_tool_spec()]

    def handles(self, name: str) -> bool:
        return name == self.name

    def parse(self, arguments: str, settings: SessionSettings) -> ShellCall:
        """The command a call asks for; ``ValueError`` with a message the model can act on."""
        return parse_shell_arguments(arguments, settings.cwd)

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        settings, emit = ctx.settings, ctx.emit
        try:
            shell = self.parse(call.arguments, settings)
        except ValueError as exc:
            return FunctionCallOutput(call_id=call.call_id, output=f"invalid arguments: {exc}")
        if (patch := patch_invocation(shell.command)) is not None:
            # The engine applies patches itself (verified, within the writable roots).
            workdir = shell.workdir / patch.workdir if patch.workdir else shell.workdir
            output = await run_apply_patch(call.call_id, patch.patch, workdir, ctx)
            return FunctionCallOutput(call_id=call.call_id, output=output)
        refusal, sandboxed = await self.permission(call.call_id, shell, ctx)
        if refusal is not None:
            emit(
                CommandRejected(
                    call.call_id,
                    shell.command,
                    refusal,
                    str(shell.workdir),
                    declined_by_user=refusal == USER_DECLINED,
                )
            )
            return FunctionCallOutput(call_id=call.call_id, output=f"command not run: {refusal}")
        emit(CommandStarted(call.call_id, shell.command, str(shell.workdir)))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

        def on_output(chunk: bytes) -> None:
            text = decoder.decode(chunk)
            if text:
                emit(CommandOutputDelta(call.call_id, text))

        runnable = shell
        if sandboxed is not None:
            # In a thread: finding the repositories to protect walks the writable roots.
            wrapped = await asyncio.to_thread(
                wrap_command,
                shell.command,
                mode=settings.sandbox_mode,
                cwd=shell.workdir,
                writable_roots=sandbox_writable_roots(settings.cwd, settings.extra_writable_roots),
                network=settings.network_access,
                bwrap=sandboxed,
            )
            runnable = msgspec.structs.replace(shell, command=wrapped)
        result = await run_shell(runnable, env=settings.shell_env, on_output=on_output)
        ctx.metrics.tool_call(self.name, result.exit_code == 0, result.duration_s * 1000)
        emit(
            CommandFinished(
                call.call_id,
                shell.command,
                result.exit_code,
                result.output,
                result.duration_s,
                result.timed_out,
            )
        )
        return FunctionCallOutput(
            call_id=call.call_id,
            output=format_for_model(result, settings.truncation_limit_bytes()),
        )

    async def _sandbox_support(self) -> SandboxSupport:
        if self._sandbox is None:
            self._sandbox = await detect_sandbox()
        return self._sandbox

    async def permission(
        self, call_id: str, shell: ShellCall, ctx: ToolContext
    ) -> tuple[str | None, str | None]:
        """``(refusal, bwrap)``: why the command may not run (told to the model), or ``None``
        and the bubblewrap binary to confine it with (``None`` = run it unconfined).

        ``danger-full-access`` runs commands as they are (``untrusted`` still asks before any
        that may write). In ``read-only`` and ``workspace-write`` the OS sandbox confines every
        command; without one, only commands known to just read run on their own, the rest need
        the approver's yes (and the user is told once that no sandbox is available, whether or not
        the first command needs approval).
        """
        settings = ctx.settings
        safe = is_known_safe_command(
            shell.command, at_workspace_root=shell.workdir == settings.cwd.resolve()
        )
        untrusted = "approval policy 'untrusted' asks first"
        if settings.sandbox_mode == "danger-full-access":
            if settings.approval_policy != "untrusted" or safe:
                return None, None
            return await ask_approval(call_id, shell, untrusted, ctx, sandboxed=False), None
        support = await self._sandbox_support()
        if support.available and support.bwrap is not None:
            if settings.approval_policy != "untrusted" or safe:
                return None, support.bwrap
            refusal = await ask_approval(call_id, shell, untrusted, ctx, sandboxed=True)
            return refusal, support.bwrap
        if not self._warned_no_sandbox:
            self._warned_no_sandbox = True
            ctx.emit(
                WarningEvent(
                    f"no OS sandbox is available here ({support.reason}), so sandbox mode "
                    f"{settings.sandbox_mode!r} cannot be enforced: commands that may write "
                    "need approval"
                )
            )
        if safe:
            return None, None
        reason = f"sandbox mode {settings.sandbox_mode!r} cannot be enforced without an OS sandbox"
        return await ask_approval(call_id, shell, reason, ctx, sandboxed=False), None


async def ask_approval(
    call_id: str, shell: ShellCall, reason: str, ctx: ToolContext, *, sandboxed: bool
) -> str | None:
    """Why the command may not run, or ``None`` once the reviewer approved it."""
    mode = ctx.settings.sandbox_mode
    policy = ctx.settings.approval_policy
    if policy != "never":
        auto = automatic_decision(ctx.approvals_reviewer, sandboxed=sandboxed, sandbox_mode=mode)
        if auto is not None:
            return None if auto.approved else auto.reason
    if ctx.approver is None or policy == "never":
        return (
            f"{reason}, and no approval can be given here (approval policy "
            f"{policy!r}); run with --sandbox danger-full-access to allow it"
        )
    approved = await ctx.approver(
        ApprovalRequest(
            call_id,
            shell.command,
            shell.workdir,
            reason,
            sandboxed=sandboxed,
            sandbox_mode=mode,
        )
    )
    return None if approved else USER_DECLINED
