"""The live processes of one session by session id, at most :data:`MAX_PROCESSES` of them (the
reference's cap): starting one more ends the least recently used, exited ones first."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence

import msgspec

from codex_engine.core.tools.unified_exec.process import LiveProcess

__all__ = ["MAX_PROCESSES", "ProcessEntry", "ProcessStore"]

MAX_PROCESSES = 64


class ProcessEntry(msgspec.Struct, eq=False):
    """A live process and what the session knows about it."""

    session_id: int
    process: LiveProcess
    #: The call that started it (its command events carry this id).
    call_id: str
    command: Sequence[str]
    last_used: float = msgspec.field(default_factory=time.monotonic)
    #: Whether its end was reported (``CommandFinished``) already.
    finished_reported: bool = False


_IDS = random.Random()


class ProcessStore:
    """Session ids to live processes; :meth:`close` kills every one of them."""

    def __init__(self, limit: int = MAX_PROCESSES) -> None:
        self._limit = limit
        self._entries: dict[int, ProcessEntry] = {}
        self._random = _IDS  # one generator for all stores: each holds 2.5 KiB of state

    def __len__(self) -> int:
        return len(self._entries)

    def new_id(self) -> int:
        """An unused id (random, as the reference's, so a model cannot guess stale ones)."""
        while True:
            candidate = self._random.randint(1000, 99_999)
            if candidate not in self._entries:
                return candidate

    async def add(self, entry: ProcessEntry) -> None:
        """Keep ``entry``; over the cap, the least recently used (exited first) is ended."""
        while len(self._entries) >= self._limit:
            victim = min(
                self._entries.values(),
                key=lambda e: (not e.process.has_exited, e.last_used),
            )
            del self._entries[victim.session_id]
            await victim.process.terminate()
        self._entries[entry.session_id] = entry

    def get(self, session_id: int) -> ProcessEntry | None:
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.last_used = time.monotonic()
        return entry

    def remove(self, session_id: int) -> ProcessEntry | None:
        return self._entries.pop(session_id, None)

    def entries(self) -> list[ProcessEntry]:
        return list(self._entries.values())

    async def close(self) -> None:
        """Kill every process and forget them."""
        entries, self._entries = list(self._entries.values()), {}
        await asyncio.gather(*(entry.process.terminate() for entry in entries))
