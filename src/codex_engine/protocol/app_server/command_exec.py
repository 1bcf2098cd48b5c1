"""``command/exec`` and its follow-ups (``command/exec/write``, ``/resize``, ``/terminate``) and
the ``command/exec/outputDelta`` notification: a client runs a standalone command in the
server's sandbox, without a thread."""

from typing import Annotated, Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params

#: A terminal dimension: rows or columns.
TerminalCells = Annotated[int, msgspec.Meta(ge=0, le=65535)]

__all__ = [
    "CommandExecOutputDeltaNotification",
    "CommandExecParams",
    "CommandExecProcessParams",
    "CommandExecResizeParams",
    "CommandExecResponse",
    "CommandExecTerminalSize",
    "CommandExecWriteParams",
    "ThreadShellCommandParams",
]


class CommandExecTerminalSize(_Params, frozen=True, kw_only=True):
    rows: TerminalCells
    cols: TerminalCells


class CommandExecParams(_Params, frozen=True, kw_only=True):
    command: list[str]
    cwd: str | None = None
    #: Overrides merged into the server's environment; ``None`` unsets a variable.
    env: dict[str, str | None] | None = None
    #: The client's id for follow-up calls (needed for tty and streaming).
    process_id: str | None = None
    tty: bool = False
    stream_stdin: bool = False
    stream_stdout_stderr: bool = False
    size: CommandExecTerminalSize | None = None
    timeout_ms: int | None = None
    disable_timeout: bool = False
    output_bytes_cap: Annotated[int, NonNegative] | None = None
    disable_output_cap: bool = False
    #: The ``SandboxPolicy`` shape of ``turn/start``; ``None``: the configured sandbox.
    sandbox_policy: dict[str, Any] | None = None


class CommandExecProcessParams(_Params, frozen=True, kw_only=True):
    """``command/exec/terminate``: which process."""

    process_id: str


class CommandExecWriteParams(_Params, frozen=True, kw_only=True):
    process_id: str
    delta_base64: str | None = None
    close_stdin: bool = False


class CommandExecResizeParams(_Params, frozen=True, kw_only=True):
    process_id: str
    size: CommandExecTerminalSize


class CommandExecResponse(_Out, kw_only=True):
    exit_code: int
    stdout: str
    stderr: str


class CommandExecOutputDeltaNotification(_Out, kw_only=True):
    process_id: str
    stream: Literal["stdout", "stderr"]
    delta_base64: str
    cap_reached: bool


class ThreadShellCommandParams(_Params, frozen=True, kw_only=True):
    """``thread/shellCommand``: a command line the user runs in the thread's shell and cwd."""

    thread_id: str
    #: Shell syntax kept (pipes, redirects, quoting); runs with full access, unsandboxed.
    command: str
    #: Default one hour; 0 times out at once.
    timeout_ms: int | None = None
