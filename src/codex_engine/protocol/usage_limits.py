"""The usage-limit messages: when a reached limit resets (in local time) and what the plan
allows next; also the plan-without-Codex message. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from codex_engine.protocol.error_text import (
    EXCERPT_CHARS,
    finite_number,
    one_line,
    redact_secrets,
)

__all__ = [
    "format_reset_time",
    "resets_at_of",
    "usage_limit_message",
    "usage_not_included_message",
]

_BUSINESS_PLANS = frozenset(
    {"team", "business", "enterprise", "edu", "education", "self_serve_business_usage_based"}
)
_USAGE_URL = "https://chatgpt.com/settings/usage"


def usage_limit_message(
    plan_type: str | None,
    resets_at: datetime | None,
    *,
    promo_message: str | None = None,
    now: datetime | None = None,
) -> str:
    """One-line text for a reached usage limit: when it resets and what the plan allows next.

    A server promo message (``x-codex-promo-message``) replaces the plan hint when present.
    """
    if resets_at is not None:
        when = format_reset_time(resets_at, now=now)
        head = f"You've reached your usage limit; it resets at {when}."
    else:
        head = "You've reached your usage limit; try again once it resets."
    hint = one_line(redact_secrets(promo_message or ""), EXCERPT_CHARS) or _plan_hint(plan_type)
    return f"{head} {hint}"


def format_reset_time(resets_at: datetime, *, now: datetime | None = None) -> str:
    """Render ``resets_at`` in the local time zone: ``14:05 CEST`` today, else with the date."""
    try:
        local = resets_at.astimezone()
        local_now = (now if now is not None else datetime.now(UTC)).astimezone()
        zone = local.tzname() or local.strftime("%z")
        clock = f"{local:%H:%M} {zone}".strip()
        if local.date() == local_now.date():
            return clock
        return f"{clock} on {local:%b} {local.day}, {local.year}"
    except (OverflowError, ValueError, OSError):
        # Extreme dates cannot be moved to local time; the UTC form is still exact.
        return resets_at.isoformat()


def usage_not_included_message(where: str) -> str:
    return (
        f"Your ChatGPT plan does not include Codex{where}; upgrade the plan, "
        "or sign in with an OpenAI API key instead."
    )


def _plan_hint(plan_type: str | None) -> str:
    plan = (plan_type or "").strip().lower()
    if plan in ("free", "go"):
        return (
            "To keep working sooner, move to a paid ChatGPT plan with higher limits "
            "(https://chatgpt.com/explore/plus)."
        )
    if plan == "plus":
        return (
            "To keep working sooner, upgrade to Pro (https://chatgpt.com/explore/pro) "
            f"or buy credits at {_USAGE_URL}."
        )
    if plan == "pro":
        return f"To keep working sooner, buy credits at {_USAGE_URL}."
    if plan in _BUSINESS_PLANS:
        return (
            "To keep working sooner, ask your workspace admin for more credits or a higher limit."
        )
    return f"See your usage and options at {_USAGE_URL}."


def resets_at_of(error: Mapping[str, Any] | None) -> datetime | None:
    if error is None:
        return None
    seconds = finite_number(error.get("resets_at"))
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    # Some backends send a relative value instead; it is anchored to the time we parse it.
    relative = finite_number(error.get("resets_in_seconds"))
    if relative is not None and relative >= 0:
        try:
            return datetime.now(UTC) + timedelta(seconds=relative)
        except OverflowError:
            return None
    return None
