"""Server-to-client approval requests and their resolution notification."""

from typing import Annotated, Any, Literal

from codex_engine.protocol.app_server._base import EXPERIMENTAL_FIELD, _Out, _Params

__all__ = [
    "CommandExecutionRequestApprovalParams",
    "CommandExecutionRequestApprovalResponse",
    "ServerRequestResolvedNotification",
    "ToolRequestUserInputParams",
    "ToolRequestUserInputResponse",
]


class CommandExecutionRequestApprovalParams(_Out, kw_only=True):
    #: A command to run (``writeStdin``: input for a running terminal, not sent by codex-engine).
    kind: Literal["command", "writeStdin"] = "command"
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    #: Where the command runs: always this machine.
    environment_id: str | None = "local"
    command: str | None = None
    cwd: str | None = None
    reason: str | None = None
    command_actions: list[dict[str, Any]] | None = None
    #: A command prefix the client may approve for good (``acceptWithExecpolicyAmendment``).
    proposed_execpolicy_amendment: list[str] | None = None
    #: The decisions the client may offer, in order (experimental in the reference schema).
    available_decisions: Annotated[list[str | dict[str, Any]] | None, EXPERIMENTAL_FIELD] = None


class ServerRequestResolvedNotification(_Out, kw_only=True):
    thread_id: str
    request_id: str | int


class CommandExecutionRequestApprovalResponse(_Params, frozen=True, kw_only=True):
    """The client's answer: one of the offered ``availableDecisions`` (unknown ones decline)."""

    decision: str | dict[str, Any]


class ToolRequestUserInputOption(_Out, kw_only=True):
    label: str
    description: str


class ToolRequestUserInputQuestion(_Out, kw_only=True):
    id: str
    header: str
    question: str
    #: Whether the client offers a free-form answer besides the options (always, as 0.163).
    is_other: bool = True
    is_secret: bool = False
    options: list[ToolRequestUserInputOption] | None = None


class ToolRequestUserInputParams(_Out, kw_only=True):
    """``item/tool/requestUserInput``: the model's ``request_user_input`` questions."""

    thread_id: str
    turn_id: str
    #: The tool call's id.
    item_id: str
    questions: list[ToolRequestUserInputQuestion]
    is_blocking: bool = False
    auto_resolution_ms: int | None = None


class ToolRequestUserInputResponse(_Params, frozen=True, kw_only=True):
    """The client's answers, by question id: ``{"<id>": {"answers": ["..."]}}``."""

    answers: dict[str, Any]
