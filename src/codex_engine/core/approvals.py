"""Who decides on a command that needs approval, and what may never be approved automatically.

The reviewer is the user (asked through the session's :data:`Approver`) or an automatic one that
the engine plays itself: it approves only commands the requested sandbox confines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec

from codex_engine.config.loader import SandboxMode

__all__ = [
    "APPROVALS_REVIEWERS",
    "ApprovalRequest",
    "ApprovalsReviewer",
    "Approver",
    "AutoReview",
    "McpToolApproval",
    "automatic_decision",
    "is_automatic_reviewer",
]

#: The app-server's ``approvalsReviewer`` values. ``guardian_subagent`` is the legacy name of
#: ``auto_review``.
ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]
APPROVALS_REVIEWERS: tuple[ApprovalsReviewer, ...] = get_args(ApprovalsReviewer)


class McpToolApproval(msgspec.Struct, frozen=True):
    """The MCP tool call an :class:`ApprovalRequest` is about (instead of a command)."""

    server: str
    tool: str
    arguments: Any = None
    title: str | None = None
    description: str | None = None


class ApprovalRequest(msgspec.Struct, frozen=True):
    """A command the session will run only if the reviewer says yes."""

    call_id: str
    command: Sequence[str]
    cwd: Path
    #: Why it needs approval, for the person asked.
    reason: str
    #: Whether the command would run confined by the OS sandbox (bubblewrap).
    sandboxed: bool = False
    #: The sandbox mode the session asked for.
    sandbox_mode: SandboxMode = "read-only"
    #: What is to be approved: a command, or the file writes of a patch (``command`` is then
    #: ``["apply_patch", PATH…]``).
    kind: Literal["command", "file_change"] = "command"
    #: Set when the request is for an MCP tool call (``command`` then names the tool).
    mcp_tool: McpToolApproval | None = None
    #: The command prefix the model proposed to approve for the session (``prefix_rule``);
    #: ``None``: the client proposes one from the command.
    prefix_rule: tuple[str, ...] | None = None


#: Asked before a command that policy does not allow on its own; returns whether to run it.
Approver = Callable[[ApprovalRequest], Awaitable[bool]]


class AutoReview(msgspec.Struct, frozen=True):
    """An automatic reviewer's decision; ``reason`` (one line, for the model) when declined."""

    approved: bool
    reason: str | None = None


def is_automatic_reviewer(reviewer: str) -> bool:
    """Whether the engine decides itself. Anything but ``"user"`` is automatic (fails closed)."""
    return reviewer != "user"


def automatic_decision(
    reviewer: str, *, sandboxed: bool, sandbox_mode: SandboxMode
) -> AutoReview | None:
    """The engine's decision when ``reviewer`` is automatic; ``None`` when the user decides.

    An automatic reviewer approves a command only if it runs confined by the sandbox the session
    asked for, or the session asked for no sandbox at all (``danger-full-access``). Otherwise the
    sandbox's promise would be broken without anyone having agreed to it, so it declines.
    """
    if not is_automatic_reviewer(reviewer):
        return None
    if sandboxed or sandbox_mode == "danger-full-access":
        return AutoReview(approved=True)
    return AutoReview(
        approved=False,
        reason=(
            f"the automatic approval reviewer declined it: with no OS sandbox here it would run "
            f"unconfined, which sandbox mode {sandbox_mode!r} does not allow; use commands that "
            "only read, or the user must review approvals (approvalsReviewer 'user') or install "
            "bubblewrap"
        ),
    )
