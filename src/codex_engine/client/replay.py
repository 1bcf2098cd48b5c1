"""Suppressing what a retried stream repeats, so a reconnect never shows the user text twice.

When a stream breaks off and the request is sent again, the server starts the response from the
beginning. :class:`ReplayFilter` remembers what was already delivered (finished items, and the
text of the item that was in progress) and drops the repeated prefix of the new attempt.
"""

from __future__ import annotations

import msgspec

from codex_engine.protocol.events import (
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    ResponseEvent,
)

__all__ = ["ReplayFilter"]

_DeltaKey = tuple[type, int | None]


class ReplayFilter(msgspec.Struct):
    """Feed every event of every attempt through :meth:`filter`; call :meth:`new_attempt` between.

    If a retried response diverges from what was shown (a model is not obliged to repeat
    itself), the text after the already-shown length is delivered; nothing is ever shown twice.
    """

    _items_done: int = 0
    _item_added: bool = False
    _shown: dict[_DeltaKey, int] = msgspec.field(default_factory=dict)
    # per attempt
    _seen_done: int = 0
    _seen_added: int = 0
    _replayed: dict[_DeltaKey, int] = msgspec.field(default_factory=dict)

    def new_attempt(self) -> None:
        self._seen_done = 0
        self._seen_added = 0
        self._replayed = {}

    def filter(self, event: ResponseEvent) -> ResponseEvent | None:
        if isinstance(event, OutputItemDone):
            self._seen_done += 1
            if self._seen_done <= self._items_done:
                return None
            self._items_done += 1
            self._item_added = False
            self._shown = {}
            self._replayed = {}
            return event
        if isinstance(event, OutputItemAdded):
            self._seen_added += 1
            if self._seen_added <= self._items_done + (1 if self._item_added else 0):
                return None
            self._item_added = True
            return event
        if isinstance(event, ReasoningSummaryPartAdded):
            return None if self._seen_done < self._items_done else event
        if isinstance(event, OutputTextDelta | ReasoningSummaryDelta | ReasoningContentDelta):
            if self._seen_done < self._items_done:
                return None
            return self._delta(event)
        return event

    def _delta(
        self, event: OutputTextDelta | ReasoningSummaryDelta | ReasoningContentDelta
    ) -> ResponseEvent | None:
        index = event.output_index if isinstance(event, OutputTextDelta) else None
        if isinstance(event, ReasoningSummaryDelta):
            index = event.summary_index
        elif isinstance(event, ReasoningContentDelta):
            index = event.content_index
        key: _DeltaKey = (type(event), index)
        shown = self._shown.get(key, 0)
        before = self._replayed.get(key, 0)
        after = before + len(event.delta)
        self._replayed[key] = after
        if after <= shown:
            return None
        fresh = event.delta[max(shown - before, 0) :]
        self._shown[key] = after
        if isinstance(event, OutputTextDelta):
            return OutputTextDelta(fresh, event.item_id, event.output_index)
        if isinstance(event, ReasoningSummaryDelta):
            return ReasoningSummaryDelta(fresh, event.summary_index, event.item_id)
        return ReasoningContentDelta(fresh, event.content_index, event.item_id)
