"""Rate-limit snapshots: the data model and the parsers for response headers and in-band events.

Pure functions over already-received data; nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from codex_engine.protocol.headers import lower_headers

__all__ = [
    "DEFAULT_LIMIT_ID",
    "CreditsSnapshot",
    "RateLimitSnapshot",
    "RateLimitWindow",
    "active_rate_limit",
    "normalize_limit_id",
    "parse_rate_limit_event",
    "parse_rate_limit_headers",
]

#: The limit family every Codex backend reports; its headers start with ``x-codex-``.
DEFAULT_LIMIT_ID = "codex"

_FAMILY_MARKER = "-primary-used-percent"
_ACTIVE_LIMIT_HEADER = "x-codex-active-limit"
_RATE_LIMIT_EVENT_TYPE = "codex.rate_limits"

# Header values are parsed strictly (like the reference's integer/float parsers): Python's own
# int()/float() would also accept "1_000", "nan" and "infinity", which no server means.
_INT_RE = re.compile(r"[+-]?\d{1,19}")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class RateLimitWindow(msgspec.Struct, frozen=True, kw_only=True):
    """Usage of one rolling window: percent used, its length, and when it resets (unix seconds)."""

    used_percent: float
    window_minutes: int | None = None
    resets_at: int | None = None


class CreditsSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Credit balance attached to a limit family; ``balance`` is the server's string verbatim."""

    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server said about one limit family at one moment."""

    limit_id: str = DEFAULT_LIMIT_ID
    limit_name: str | None = None
    primary: RateLimitWindow | None = None
    secondary: RateLimitWindow | None = None
    credits: CreditsSnapshot | None = None
    plan_type: str | None = None

    def has_data(self) -> bool:
        """True when at least one window or the credits block is present."""
        return self.primary is not None or self.secondary is not None or self.credits is not None


def normalize_limit_id(name: str) -> str:
    """Map a limit name as written in headers or events (``codex-secondary``) to its id form."""
    return name.strip().lower().replace("-", "_")


def parse_rate_limit_headers(headers: Mapping[str, str]) -> list[RateLimitSnapshot]:
    """Return one snapshot per limit family found in ``headers``; ``[]`` when there is none.

    The ``codex`` family comes first, then any extra family (discovered from header names
    ending in ``-primary-used-percent``) in sorted order. Families without data are dropped.
    Never raises, whatever the header names or values are.
    """
    lowered = lower_headers(headers)
    snapshots: list[RateLimitSnapshot] = []
    default = _parse_family(lowered, DEFAULT_LIMIT_ID)
    if default.has_data():
        snapshots.append(default)
    for limit_id in sorted(_extra_limit_ids(lowered)):
        snapshot = _parse_family(lowered, limit_id)
        if snapshot.has_data():
            snapshots.append(snapshot)
    return snapshots


def active_rate_limit(
    headers: Mapping[str, str], snapshots: list[RateLimitSnapshot] | None = None
) -> RateLimitSnapshot | None:
    """Pick the snapshot the server named in ``x-codex-active-limit`` (default: ``codex``).

    Used to attach the limit that was hit to a usage-limit error. Falls back to the ``codex``
    family, then to the first snapshot, when the named family is absent.
    """
    lowered = lower_headers(headers)
    if snapshots is None:
        snapshots = parse_rate_limit_headers(headers)
    if not snapshots:
        return None
    wanted = normalize_limit_id(lowered.get(_ACTIVE_LIMIT_HEADER, "") or DEFAULT_LIMIT_ID)
    for candidate in (wanted, DEFAULT_LIMIT_ID):
        for snapshot in snapshots:
            if snapshot.limit_id == candidate:
                return snapshot
    return snapshots[0]


def parse_rate_limit_event(payload: Mapping[str, Any]) -> RateLimitSnapshot | None:
    """Parse a WebSocket ``{"type": "codex.rate_limits", ...}`` event; None for any other payload.

    Field names follow the wire: windows carry ``reset_at`` (``resets_at`` is accepted too) and
    the family comes from ``metered_limit_name`` or ``limit_name``.
    """
    if not isinstance(payload, Mapping) or payload.get("type") != _RATE_LIMIT_EVENT_TYPE:
        return None
    limits = payload.get("rate_limits")
    if not isinstance(limits, Mapping):
        limits = {}
    name = _as_str(payload.get("metered_limit_name")) or _as_str(payload.get("limit_name"))
    limit_id = normalize_limit_id(name) if name and name.strip() else DEFAULT_LIMIT_ID
    return RateLimitSnapshot(
        limit_id=limit_id or DEFAULT_LIMIT_ID,
        limit_name=name,
        primary=_event_window(limits.get("primary")),
        secondary=_event_window(limits.get("secondary")),
        credits=_event_credits(payload.get("credits")),
        plan_type=_as_str(payload.get("plan_type")),
    )


# --- headers -------------------------------------------------------------------------------


def _extra_limit_ids(lowered: Mapping[str, str]) -> set[str]:
    ids: set[str] = set()
    for name in lowered:
        if not (name.startswith("x-") and name.endswith(_FAMILY_MARKER)):
            continue
        prefix = name[2 : -len(_FAMILY_MARKER)]
        if not prefix:
            continue
        limit_id = normalize_limit_id(prefix)
        if limit_id and limit_id != DEFAULT_LIMIT_ID:
            ids.add(limit_id)
    return ids


def _parse_family(lowered: Mapping[str, str], limit_id: str) -> RateLimitSnapshot:
    prefix = "x-" + limit_id.replace("_", "-")
    return RateLimitSnapshot(
        limit_id=limit_id,
        limit_name=_clean(lowered.get(f"{prefix}-limit-name")),
        primary=_header_window(lowered, f"{prefix}-primary"),
        secondary=_header_window(lowered, f"{prefix}-secondary"),
        credits=_header_credits(lowered, f"{prefix}-credits"),
    )


def _header_window(lowered: Mapping[str, str], prefix: str) -> RateLimitWindow | None:
    used = _parse_float(lowered.get(f"{prefix}-used-percent"))
    if used is None:
        return None
    minutes = _parse_int(lowered.get(f"{prefix}-window-minutes"))
    resets_at = _parse_int(lowered.get(f"{prefix}-reset-at"))
    # Servers send all-zero windows for limits that do not apply; those carry no information.
    if used == 0 and not minutes and resets_at is None:
        return None
    return RateLimitWindow(used_percent=used, window_minutes=minutes, resets_at=resets_at)


def _header_credits(lowered: Mapping[str, str], prefix: str) -> CreditsSnapshot | None:
    has_credits = _parse_bool(lowered.get(f"{prefix}-has-credits"))
    if has_credits is None:
        return None
    unlimited = _parse_bool(lowered.get(f"{prefix}-unlimited"))
    balance = lowered.get(f"{prefix}-balance")
    return CreditsSnapshot(
        has_credits=has_credits,
        unlimited=bool(unlimited),
        balance=_clean(balance),
    )


def _clean(raw: str | None) -> str | None:
    text = raw.strip() if raw is not None else ""
    return text or None


def _parse_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    text = raw.strip()
    if not _FLOAT_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _parse_int(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if _INT_RE.fullmatch(text) else None


def _parse_bool(raw: str | None) -> bool | None:
    if raw is None:
        return None
    text = raw.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return None


# --- in-band events --------------------------------------------------------------------------


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return _parse_int(value)
    return None


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return _parse_float(value)
    return None


def _event_window(raw: object) -> RateLimitWindow | None:
    if not isinstance(raw, Mapping):
        return None
    used = _as_float(raw.get("used_percent"))
    if used is None:
        return None
    resets_at = raw.get("reset_at", raw.get("resets_at"))
    return RateLimitWindow(
        used_percent=used,
        window_minutes=_as_int(raw.get("window_minutes")),
        resets_at=_as_int(resets_at),
    )


def _event_credits(raw: object) -> CreditsSnapshot | None:
    if not isinstance(raw, Mapping):
        return None
    has_credits = raw.get("has_credits")
    if not isinstance(has_credits, bool):
        return None
    unlimited = raw.get("unlimited")
    balance = raw.get("balance")
    if isinstance(balance, int | float) and not isinstance(balance, bool):
        balance = str(balance)
    return CreditsSnapshot(
        has_credits=has_credits,
        unlimited=unlimited if isinstance(unlimited, bool) else False,
        balance=balance if isinstance(balance, str) else None,
    )
