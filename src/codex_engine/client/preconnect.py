"""The startup preconnect slot as pure state: one WebSocket handshake warmed for the next turn.

``idle`` → ``in_flight`` → ``ready`` | ``failed``, and back to ``idle`` when the first turn takes
what is there (a failed handshake is that turn's first failed connection attempt). The moves are
:data:`TRANSITIONS`; any other raises. Running the handshake is ``client/preconnector.py``'s
job, and starting it the launcher's (``core/launch.py``).
"""

from __future__ import annotations

import enum
from typing import Final, Generic, TypeVar

import msgspec

from codex_engine.errors import IllegalTransitionError

__all__ = [
    "TRANSITIONS",
    "Empty",
    "Failed",
    "InFlight",
    "PreconnectEvent",
    "PreconnectSlot",
    "PreconnectState",
    "Ready",
    "Taken",
]

C = TypeVar("C")


class PreconnectState(enum.Enum):
    IDLE = "idle"
    IN_FLIGHT = "in_flight"
    READY = "ready"
    FAILED = "failed"


class PreconnectEvent(enum.Enum):
    #: A handshake began (started by the client, or adopted from exec's early start).
    START = "start"
    #: It finished with an open connection.
    OPENED = "opened"
    #: It failed; the failure is kept for the turn that takes it.
    FAILED = "failed"
    #: It was cancelled before it settled.
    CANCELLED = "cancelled"
    #: The first turn takes whatever is there (an in-flight handshake it then awaits itself).
    TAKE = "take"
    #: Fallback or shutdown: drop whatever is there.
    CLEAR = "clear"


_IDLE, _IN_FLIGHT = PreconnectState.IDLE, PreconnectState.IN_FLIGHT
_READY, _FAILED = PreconnectState.READY, PreconnectState.FAILED

#: Every legal move; one handshake per slot at a time, and a settled one waits for a taker.
TRANSITIONS: Final[dict[tuple[PreconnectState, PreconnectEvent], PreconnectState]] = {
    (_IDLE, PreconnectEvent.START): _IN_FLIGHT,
    (_IN_FLIGHT, PreconnectEvent.OPENED): _READY,
    (_IN_FLIGHT, PreconnectEvent.FAILED): _FAILED,
    (_IN_FLIGHT, PreconnectEvent.CANCELLED): _IDLE,
    (_IDLE, PreconnectEvent.TAKE): _IDLE,
    (_IN_FLIGHT, PreconnectEvent.TAKE): _IDLE,
    (_READY, PreconnectEvent.TAKE): _IDLE,
    (_FAILED, PreconnectEvent.TAKE): _IDLE,
    (_IDLE, PreconnectEvent.CLEAR): _IDLE,
    (_IN_FLIGHT, PreconnectEvent.CLEAR): _IDLE,
    (_READY, PreconnectEvent.CLEAR): _IDLE,
    (_FAILED, PreconnectEvent.CLEAR): _IDLE,
}


class Empty(msgspec.Struct, frozen=True):
    """Nothing was warmed: the turn opens its own connection."""


class InFlight(msgspec.Struct, frozen=True):
    """The handshake is still running: the turn awaits it (the slot no longer holds it)."""


class Ready(msgspec.Struct, Generic[C], frozen=True):
    connection: C


class Failed(msgspec.Struct, frozen=True):
    """The preconnect failed: this is the turn's first failed connection attempt."""

    error: BaseException


Taken = Empty | InFlight | Ready[C] | Failed


class PreconnectSlot(Generic[C]):
    """Holds at most one warmed connection (or its failure) for the session's next turn."""

    __slots__ = ("_connection", "_error", "_state")

    def __init__(self) -> None:
        self._state = PreconnectState.IDLE
        self._connection: C | None = None
        self._error: BaseException | None = None

    @property
    def state(self) -> PreconnectState:
        return self._state

    def _move(self, event: PreconnectEvent) -> None:
        following = TRANSITIONS.get((self._state, event))
        if following is None:
            raise IllegalTransitionError("preconnect slot", self._state, event)
        self._state = following

    def start(self) -> None:
        self._move(PreconnectEvent.START)

    def opened(self, connection: C) -> None:
        self._move(PreconnectEvent.OPENED)
        self._connection = connection

    def failed(self, error: BaseException) -> None:
        self._move(PreconnectEvent.FAILED)
        self._error = error

    def cancelled(self) -> None:
        self._move(PreconnectEvent.CANCELLED)

    def take(self) -> Taken[C]:
        """What the first turn gets; the slot is idle after (a failure is handed out once)."""
        before = self._state
        self._move(PreconnectEvent.TAKE)
        connection, self._connection = self._connection, None
        error, self._error = self._error, None
        if before is _IN_FLIGHT:
            return InFlight()
        if connection is not None:
            return Ready(connection)
        if error is not None:
            return Failed(error)
        return Empty()

    def clear(self) -> C | None:
        """Forget what the slot holds; a ready connection is returned for the caller to close."""
        self._move(PreconnectEvent.CLEAR)
        connection, self._connection = self._connection, None
        self._error = None
        return connection
