"""Engine values as app-server wire objects: plan types, rate limits, error info, command and
file-change items. Pure conversions, shared by the projector, history and approvals."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from codex_engine.core.events import (
    FileChange,
)
from codex_engine.errors import (
    ApiError,
    AuthError,
    CodexError,
    ConnectionFailedError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidRequestError,
    QuotaExceededError,
    RetryLimitError,
    ServerOverloadedError,
    UnauthorizedError,
    UnexpectedStatusError,
    UsageLimitReachedError,
    UsageNotIncludedError,
)
from codex_engine.protocol.app_server import (
    CreditsSnapshotWire,
    FileChangeItem,
    FileUpdateChange,
    RateLimitSnapshotWire,
    RateLimitWindowWire,
    TokenUsageBreakdown,
    TurnError,
)
from codex_engine.protocol.app_server.items import CommandStatus
from codex_engine.protocol.events import TokenUsage
from codex_engine.protocol.patch import unified_diff
from codex_engine.protocol.rate_limits import RateLimitSnapshot, RateLimitWindow

__all__ = [
    "ANSWER_PHASES",
    "codex_error_info",
    "command_actions",
    "command_text",
    "file_change_item",
    "git_diff",
    "plan_type_wire",
    "rate_limits_wire",
    "turn_error",
    "usage_wire",
    "web_search_action",
]

ANSWER_PHASES = {"commentary", "partial_answer", "final_answer"}
_PLAN_TYPES = frozenset(
    {
        "free",
        "go",
        "plus",
        "pro",
        "prolite",
        "promax",
        "team",
        "self_serve_business_prolite",
        "self_serve_business_usage_based",
        "business",
        "ent26",
        "enterprise_cbp_automation",
        "enterprise_cbp_usage_based",
        "enterprise",
        "edu",
        "edu_plus",
        "edu_pro",
    }
)
_PLAN_ALIASES = {"hc": "enterprise", "education": "edu"}


def plan_type_wire(plan: str | None) -> str | None:
    """A plan name as the schema's PlanType (``unknown`` for names it does not list)."""
    if not plan:
        return None
    lowered = plan.strip().lower()
    lowered = _PLAN_ALIASES.get(lowered, lowered)
    return lowered if lowered in _PLAN_TYPES else "unknown"


def _window(window: RateLimitWindow | None) -> RateLimitWindowWire | None:
    if window is None:
        return None
    return RateLimitWindowWire(
        used_percent=round(window.used_percent),
        window_duration_mins=window.window_minutes,
        resets_at=window.resets_at,
    )


def rate_limits_wire(snapshot: RateLimitSnapshot) -> RateLimitSnapshotWire:
    credits = snapshot.credits
    return RateLimitSnapshotWire(
        limit_id=snapshot.limit_id,
        limit_name=snapshot.limit_name,
        primary=_window(snapshot.primary),
        secondary=_window(snapshot.secondary),
        credits=CreditsSnapshotWire(
            has_credits=credits.has_credits, unlimited=credits.unlimited, balance=credits.balance
        )
        if credits is not None
        else None,
        plan_type=plan_type_wire(snapshot.plan_type),
    )


def codex_error_info(error: CodexError) -> str | dict[str, Any]:
    """The schema's CodexErrorInfo for an error a turn ended with, as the reference reports it.

    An HTTP status the engine did not recover from (401 included) is ``httpConnectionFailed``
    with that status; a 400, a refused prompt and a stream that broke off for good are
    ``other`` (``responseStreamDisconnected`` is for the notices of a retry that follows).
    """
    status = error.status if isinstance(error, ApiError) else None
    if isinstance(error, ContextWindowExceededError):
        return "contextWindowExceeded"
    if isinstance(error, UsageLimitReachedError | QuotaExceededError | UsageNotIncludedError):
        return "usageLimitExceeded"
    if isinstance(error, ServerOverloadedError):
        return "serverOverloaded"
    if isinstance(error, InternalServerError):
        return "internalServerError"
    if isinstance(error, AuthError):
        return "unauthorized"
    if isinstance(error, InvalidRequestError):
        return "cyberPolicy" if error.code == "cyber_policy" else "other"
    if isinstance(error, RetryLimitError):
        return {"responseTooManyFailedAttempts": {"httpStatusCode": status}}
    if isinstance(error, UnauthorizedError | UnexpectedStatusError):
        return {"httpConnectionFailed": {"httpStatusCode": status}}
    if isinstance(error, ConnectionFailedError):
        return {"httpConnectionFailed": {"httpStatusCode": None}}
    return "other"


def turn_error(error: CodexError) -> TurnError:
    return TurnError(message=str(error), codex_error_info=codex_error_info(error))


def command_text(command: Sequence[str]) -> str:
    return shlex.join(command)


def command_actions(command: Sequence[str]) -> list[dict[str, Any]]:
    # codex-engine does not parse commands into read/search/list actions yet.
    return [{"type": "unknown", "command": command_text(command)}]


def usage_wire(usage: TokenUsage) -> TokenUsageBreakdown:
    return TokenUsageBreakdown(
        total_tokens=usage.total_tokens,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
    )


def web_search_action(action: dict[str, Any] | None) -> dict[str, Any] | None:
    if not action:
        return None
    kind = action.get("type")
    if kind == "search":
        return {"type": "search", "query": action.get("query"), "queries": action.get("queries")}
    if kind == "open_page":
        return {"type": "openPage", "url": action.get("url")}
    if kind == "find_in_page":
        return {"type": "findInPage", "url": action.get("url"), "pattern": action.get("pattern")}
    return {"type": "other"}


def file_change_item(
    call_id: str, changes: Sequence[FileChange], status: CommandStatus = "inProgress"
) -> FileChangeItem:
    def kind(change: FileChange) -> dict[str, Any]:
        if change.kind == "update":
            return {"type": "update", "move_path": change.move_path}
        return {"type": change.kind}

    return FileChangeItem(
        id=call_id,
        status=status,
        changes=[FileUpdateChange(path=c.path, kind=kind(c), diff=c.diff) for c in changes],
    )


def git_diff(change: FileChange) -> str:
    """One file change as a git-style diff (the turn's diff is these, in order)."""
    old = "a/" + change.path.lstrip("/")
    new = "b/" + (change.move_path or change.path).lstrip("/")
    if change.kind == "add":
        head = f"diff --git {old} {new}\nnew file mode 100644\n--- /dev/null\n+++ {new}\n"
        return head + unified_diff("", change.diff)
    if change.kind == "delete":
        head = f"diff --git {old} {new}\ndeleted file mode 100644\n--- {old}\n+++ /dev/null\n"
        return head + unified_diff(change.diff, "")
    return f"diff --git {old} {new}\n--- {old}\n+++ {new}\n{change.diff}"
