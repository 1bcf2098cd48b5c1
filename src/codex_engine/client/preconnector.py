"""Running the startup preconnect: the handshake as an asyncio task, its outcome in the slot.

The state and its legal moves are the pure :class:`~codex_engine.client.preconnect.PreconnectSlot`;
this module owns the task, the wait of a turn that finds it in flight, and closing what nobody
took. The launcher (``core/launch.py``) starts it through the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from codex_engine.client.preconnect import (
    Failed,
    InFlight,
    PreconnectSlot,
    PreconnectState,
    Ready,
)

__all__ = ["Preconnector"]

log = logging.getLogger(__name__)

C = TypeVar("C")


class Preconnector(Generic[C]):
    """The session's preconnect: at most one handshake task, its outcome kept in the slot."""

    def __init__(self, close: Callable[[C], Awaitable[None]]) -> None:
        self._close = close
        self._slot: PreconnectSlot[C] = PreconnectSlot()
        self._task: asyncio.Task[C] | None = None
        self.started_at: float | None = None
        self.settled_at: float | None = None
        # Closes scheduled from sync code; kept so they are not garbage-collected mid-way.
        self._closing: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> PreconnectState:
        return self._slot.state

    def start(self, opener: Callable[[], Awaitable[C]]) -> bool:
        """Begin a handshake in the background; a no-op unless the slot is idle."""
        if self._slot.state is not PreconnectState.IDLE:
            return False

        async def run() -> C:
            return await opener()

        self._begin(asyncio.ensure_future(run()))
        return True

    def adopt(self, task: asyncio.Task[C]) -> bool:
        """Hold a handshake someone else started (exec's, before the client existed)."""
        if self._slot.state is not PreconnectState.IDLE:
            return False
        self._begin(task)
        return True

    def _begin(self, task: asyncio.Task[C]) -> None:
        self._slot.start()
        self._task = task
        self.started_at = time.monotonic()
        self.settled_at = None
        if task.done():
            self._settled(task)
        else:
            task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[C]) -> None:
        if task is not self._task:
            return  # already taken or cleared
        self._task = None
        self.settled_at = time.monotonic()
        if task.cancelled():
            self._slot.cancelled()
        elif (error := task.exception()) is not None:
            log.debug("startup preconnect failed: %s", error)
            self._slot.failed(error)
        else:
            self._slot.opened(task.result())

    async def take(self) -> C | None:
        """The warmed connection, waiting for one in flight; ``None`` if there is none.

        Raises the handshake's error when the preconnect failed, once; the slot is idle after.
        """
        match self._slot.take():
            case InFlight():
                task, self._task = self._task, None
                assert task is not None
                try:
                    # Shielded: a turn cancelled while waiting must not tear the handshake down
                    # half-way; the connection is then closed cleanly below.
                    return await asyncio.shield(task)
                except asyncio.CancelledError:
                    task.add_done_callback(self._close_if_opened)
                    raise
                finally:
                    self.settled_at = time.monotonic()
            case Ready(connection=connection):
                return connection
            case Failed(error=error):
                raise error
            case _:
                return None

    def _close_later(self, connection: C) -> None:
        future = asyncio.ensure_future(self._close(connection))
        self._closing.add(future)
        future.add_done_callback(self._closing.discard)

    def _close_if_opened(self, task: asyncio.Task[C]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._close_later(task.result())

    def clear(self) -> None:
        """Drop whatever the slot holds: cancel a handshake in flight, close a ready socket."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            task.add_done_callback(self._close_if_opened)
        connection = self._slot.clear()
        if connection is not None:
            self._close_later(connection)

    async def aclose(self) -> None:
        """Empty the slot and wait until whatever it held is closed (session shutdown)."""
        task, self._task = self._task, None
        connection = self._slot.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                connection = await task
        if connection is not None:
            with contextlib.suppress(Exception):
                await self._close(connection)
