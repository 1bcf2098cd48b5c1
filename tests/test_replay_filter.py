"""A retried stream shows the user nothing twice (pure, no sockets)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from codex_engine.client.replay import ReplayFilter
from codex_engine.protocol.events import (
    Completed,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ResponseEvent,
)
from codex_engine.protocol.items import ContentPart, Message


def message_events(words: list[str]) -> list[ResponseEvent]:
    item = Message(role="assistant", content=[ContentPart(type="output_text", text="".join(words))])
    return [
        OutputItemAdded(item, 0),
        *[OutputTextDelta(w, "msg_1", 0) for w in words],
        OutputItemDone(item, 0),
        Completed("resp_1", None),
    ]


def shown_text(events: list[ResponseEvent | None]) -> str:
    return "".join(e.delta for e in events if isinstance(e, OutputTextDelta))


@given(
    words=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=4),
)
def test_any_sequence_of_cut_attempts_shows_the_text_exactly_once(
    words: list[str], cuts: list[int]
) -> None:
    events = message_events(words)
    replay = ReplayFilter()
    shown: list[ResponseEvent | None] = []
    for cut in cuts:
        replay.new_attempt()
        shown += [replay.filter(e) for e in events[: min(cut, len(events) - 1)]]
    replay.new_attempt()
    shown += [replay.filter(e) for e in events]
    assert shown_text(shown) == "".join(words)
    assert sum(isinstance(e, OutputItemDone) for e in shown) == 1
    assert sum(isinstance(e, OutputItemAdded) for e in shown) == 1


def test_a_diverging_retry_shows_only_text_beyond_what_was_shown() -> None:
    replay = ReplayFilter()
    first = message_events(["abc", "def"])
    assert [replay.filter(e) for e in first[:2]][1] == OutputTextDelta("abc", "msg_1", 0)
    replay.new_attempt()
    shown = [replay.filter(e) for e in message_events(["xy", "zw", "q"])]
    assert shown_text(shown) == "wq"
