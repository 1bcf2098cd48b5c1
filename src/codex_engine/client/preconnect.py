"""The startup preconnect slot: one WebSocket handshake warmed before the first turn needs it.

States ``idle`` → ``in_flight`` → ``ready`` | ``failed``, and back to ``idle`` when the first turn
takes what is there. Only the next turn can use it; a failed handshake is handed to that turn as
its first failed connection attempt, so the retry budget is the same whether or not the
preconnect had finished when the turn started.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["PreconnectSlot", "PreconnectState"]

log = logging.getLogger(__name__)

C = TypeVar("C")


class PreconnectState(enum.Enum):
    IDLE = "idle"
    IN_FLIGHT = "in_flight"
    READY = "ready"
    FAILED = "failed"


class PreconnectSlot(Generic[C]):
    """Holds at most one warmed connection (or its failure) for the session's next turn."""

    def __init__(self, close: Callable[[C], Awaitable[None]]) -> None:
        self._close = close
        self._state = PreconnectState.IDLE
        self._task: asyncio.Task[C] | None = None
        self._connection: C | None = None
        self._error: BaseException | None = None
        self.started_at: float | None = None
        self.settled_at: float | None = None
        # Closes scheduled from sync code; kept so they are not garbage-collected mid-way.
        self._closing: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> PreconnectState:
        return self._state

    def start(self, opener: Callable[[], Awaitable[C]]) -> bool:
        """Begin a handshake in the background; a no-op unless the slot is idle."""
        if self._state is not PreconnectState.IDLE:
            return False

        async def run() -> C:
            return await opener()

        self._task = asyncio.ensure_future(run())
        self._task.add_done_callback(self._settled)
        self._state = PreconnectState.IN_FLIGHT
        self.started_at = time.monotonic()
        self.settled_at = None
        return True

    def adopt(self, task: asyncio.Task[C]) -> bool:
        """Hold a handshake someone else started (e.g. before the client existed)."""
        if self._state is not PreconnectState.IDLE:
            return False
        self._task = task
        self._state = PreconnectState.IN_FLIGHT
        self.started_at = time.monotonic()
        self.settled_at = None
        if task.done():
            self._settled(task)
        else:
            task.add_done_callback(self._settled)
        return True

    def _settled(self, task: asyncio.Task[C]) -> None:
        if task is not self._task:
            return  # already taken or cleared
        self._task = None
        self.settled_at = time.monotonic()
        if task.cancelled():
            self._state = PreconnectState.IDLE
        elif (error := task.exception()) is not None:
            log.debug("startup preconnect failed: %s", error)
            self._error = error
            self._state = PreconnectState.FAILED
        else:
            self._connection = task.result()
            self._state = PreconnectState.READY

    async def take(self) -> C | None:
        """The warmed connection, waiting for one in flight; ``None`` if there is none.

        Raises the handshake's error when the preconnect failed, once; the slot is idle after.
        """
        if self._state is PreconnectState.IN_FLIGHT:
            task = self._task
            assert task is not None
            self._task = None
            self._state = PreconnectState.IDLE
            try:
                # Shielded: a turn cancelled while waiting must not tear the handshake down
                # half-way; the connection is then closed cleanly below.
                connection = await asyncio.shield(task)
            except asyncio.CancelledError:
                task.add_done_callback(self._close_if_opened)
                raise
            finally:
                self.settled_at = time.monotonic()
            return connection
        if self._state is PreconnectState.READY:
            ready, self._connection = self._connection, None
            self._state = PreconnectState.IDLE
            return ready
        if self._state is PreconnectState.FAILED:
            error, self._error = self._error, None
            self._state = PreconnectState.IDLE
            assert error is not None
            raise error
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
        connection, self._connection = self._connection, None
        if connection is not None:
            self._close_later(connection)
        self._error = None
        self._state = PreconnectState.IDLE

    async def aclose(self) -> None:
        """Empty the slot and wait until whatever it held is closed (session shutdown)."""
        task, self._task = self._task, None
        connection, self._connection = self._connection, None
        self._error = None
        self._state = PreconnectState.IDLE
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                connection = await task
        if connection is not None:
            with contextlib.suppress(Exception):
                await self._close(connection)
