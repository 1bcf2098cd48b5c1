"""Header mappings as the protocol code reads them: names lower-cased, values as text."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["lower_headers"]


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A plain dict with lower-case names.

    Callers pass plain dicts, ``httpx.Headers`` or JSON objects from WebSocket frames, so names
    and values are coerced defensively; a broken mapping yields no headers rather than a crash.
    """
    lowered: dict[str, str] = {}
    try:
        items = list(headers.items())
    except Exception:
        return lowered
    for name, value in items:
        lowered[str(name).strip().lower()] = value if isinstance(value, str) else str(value)
    return lowered
