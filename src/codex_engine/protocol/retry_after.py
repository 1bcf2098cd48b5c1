"""How long the server asked us to wait: ``retry-after-ms`` / ``Retry-After`` headers, and
the "try again in 1.5s" a rate-limit message carries. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from codex_engine.protocol.error_text import parse_non_negative
from codex_engine.protocol.headers import lower_headers

__all__ = ["retry_after_seconds", "retry_delay_in_message"]

_RETRY_DELAY_RE = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|seconds?|s)\b", re.IGNORECASE)


def retry_after_seconds(
    headers: Mapping[str, str], *, cap: float = 60.0, now: datetime | None = None
) -> float | None:
    """Server-requested wait in seconds, at most ``cap``; None when absent or unparsable.

    ``retry-after-ms`` wins over ``Retry-After``; the latter may be seconds or an HTTP date
    (a date in the past means "now", 0.0). ``now`` exists for tests.
    """
    lowered = lower_headers(headers)
    millis = parse_non_negative(lowered.get("retry-after-ms"))
    if millis is not None:
        return min(millis / 1000.0, cap)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = parse_non_negative(raw)
    if seconds is not None:
        return min(seconds, cap)
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT; a naive parse means "-0000".
    reference = now if now is not None else datetime.now(UTC)
    try:
        delta = (when - reference).total_seconds()
    except OverflowError:
        return None
    return min(max(delta, 0.0), cap)


def retry_delay_in_message(message: str) -> float | None:
    """The wait a rate-limit message names ("try again in 1.5s", "in 200ms"), in seconds."""
    match = _RETRY_DELAY_RE.search(message)
    if match is None:
        return None
    value = float(match.group(1))
    return value / 1000.0 if match.group(2).lower() == "ms" else value
