"""Identifiers codex-engine mints: thread ids."""

from __future__ import annotations

import time
import uuid

__all__ = ["new_thread_id"]


def new_thread_id() -> str:
    """Thread ids are UUIDv7-like: time-ordered so rollout files sort by creation."""
    millis = int(time.time() * 1000)
    rand = uuid.uuid4().int & ((1 << 74) - 1)
    value = (
        (millis << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))
