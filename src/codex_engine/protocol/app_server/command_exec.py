"""``command/exec`` and its follow-ups (``command/exec/write``, ``/resize``, ``/terminate``) and
the ``command/exec/outputDelta`` notification: a client runs a standalone command in the
server's sandbox, without a thread."""

from typing import Any, Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out, _Params

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


class CommandExecTerminalSize(_Params):
    rows: int = Field(ge=0, le=65535)
    cols: int = Field(ge=0, le=65535)


class CommandExecParams(_Params):
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
    output_bytes_cap: int | None = Field(default=None, ge=0)
    disable_output_cap: bool = False
    #: The ``SandboxPolicy`` shape of ``turn/start``; ``None``: the configured sandbox.
    sandbox_policy: dict[str, Any] | None = None


class CommandExecProcessParams(_Params):
    """``command/exec/terminate``: which process."""

    process_id: str


class CommandExecWriteParams(_Params):
    process_id: str
    delta_base64: str | None = None
    close_stdin: bool = False


class CommandExecResizeParams(_Params):
    process_id: str
    size: CommandExecTerminalSize


class CommandExecResponse(_Out):
    exit_code: int
    stdout: str
    stderr: str


class CommandExecOutputDeltaNotification(_Out):
    process_id: str
    stream: Literal["stdout", "stderr"]
    delta_base64: str
    cap_reached: bool


class ThreadShellCommandParams(_Params):
    """``thread/shellCommand``: a command line the user runs in the thread's shell and cwd."""

    thread_id: str
    #: Shell syntax kept (pipes, redirects, quoting); runs with full access, unsandboxed.
    command: str
    #: Default one hour; 0 times out at once.
    timeout_ms: int | None = None
