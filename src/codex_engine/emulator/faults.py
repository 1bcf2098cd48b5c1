"""Fault injection: late events, streams cut short, error statuses with their retry headers."""

from __future__ import annotations

import asyncio
import contextlib

from codex_engine.emulator.script import Reply

__all__ = ["Pacer", "events_before_drop", "status_headers"]


class Pacer:
    """Waits between events, and wakes every waiter at once when the emulator stops."""

    def __init__(self) -> None:
        self.closing = asyncio.Event()

    async def sleep(self, delay: float | None) -> None:
        if delay and delay > 0 and not self.closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), delay)

    async def before_event(
        self, reply: Reply, index: int, *, first_default: float, between_default: float
    ) -> None:
        """The pause before event `index`: the reply's own delays, else the emulator's."""
        if index == 0:
            first = reply.first_event_delay
            await self.sleep(first_default if first is None else first)
        else:
            between = reply.event_delay
            await self.sleep(between_default if between is None else between)


def events_before_drop(reply: Reply, total: int) -> int | None:
    """How many of the `total` events go out before the connection drops; None: no drop."""
    if reply.drop_after is not None and reply.drop_after <= total:
        return reply.drop_after
    return None


def status_headers(reply: Reply) -> dict[str, str]:
    """Headers of a `Reply.status` answer: Retry-After (seconds), retry-after-ms, then extras."""
    headers: dict[str, str] = {}
    if reply.retry_after is not None:
        seconds = reply.retry_after
        headers["Retry-After"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
    if reply.retry_after_ms is not None:
        headers["retry-after-ms"] = str(reply.retry_after_ms)
    headers.update(reply.headers)
    return headers
