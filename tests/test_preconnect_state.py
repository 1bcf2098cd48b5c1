"""The preconnect slot's transition table, walked pair by pair, and the one "use WebSockets?"."""

from __future__ import annotations

import itertools

import pytest

from codex_engine.client.preconnect import (
    TRANSITIONS,
    Empty,
    Failed,
    InFlight,
    PreconnectEvent,
    PreconnectSlot,
    PreconnectState,
    Ready,
    Taken,
)
from codex_engine.client.transport_choice import TransportChoice, websockets_wanted
from codex_engine.client.warm import can_warm_early
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import IllegalTransitionError

IDLE, IN_FLIGHT = PreconnectState.IDLE, PreconnectState.IN_FLIGHT
READY, FAILED = PreconnectState.READY, PreconnectState.FAILED
E = PreconnectEvent
CONN = object()
ERROR = ConnectionError("refused")

# state, event -> next state (None: illegal, the slot raises and stays where it was)
EXPECTED: dict[tuple[PreconnectState, PreconnectEvent], PreconnectState | None] = {
    (IDLE, E.START): IN_FLIGHT,
    (IDLE, E.OPENED): None,
    (IDLE, E.FAILED): None,
    (IDLE, E.CANCELLED): None,
    (IDLE, E.TAKE): IDLE,
    (IDLE, E.CLEAR): IDLE,
    (IN_FLIGHT, E.START): None,  # one handshake at a time
    (IN_FLIGHT, E.OPENED): READY,
    (IN_FLIGHT, E.FAILED): FAILED,
    (IN_FLIGHT, E.CANCELLED): IDLE,
    (IN_FLIGHT, E.TAKE): IDLE,  # the turn awaits the handshake itself
    (IN_FLIGHT, E.CLEAR): IDLE,
    (READY, E.START): None,  # a warmed socket is kept for the turn, not replaced
    (READY, E.OPENED): None,
    (READY, E.FAILED): None,
    (READY, E.CANCELLED): None,
    (READY, E.TAKE): IDLE,
    (READY, E.CLEAR): IDLE,
    (FAILED, E.START): None,  # the failure is the next turn's to see first
    (FAILED, E.OPENED): None,
    (FAILED, E.FAILED): None,
    (FAILED, E.CANCELLED): None,
    (FAILED, E.TAKE): IDLE,
    (FAILED, E.CLEAR): IDLE,
}


def slot_in(state: PreconnectState) -> PreconnectSlot[object]:
    slot: PreconnectSlot[object] = PreconnectSlot()
    if state is not IDLE:
        slot.start()
    if state is READY:
        slot.opened(CONN)
    elif state is FAILED:
        slot.failed(ERROR)
    assert slot.state is state
    return slot


def fire(slot: PreconnectSlot[object], event: PreconnectEvent) -> Taken[object] | object | None:
    match event:
        case E.START:
            return slot.start()
        case E.OPENED:
            return slot.opened(CONN)
        case E.FAILED:
            return slot.failed(ERROR)
        case E.CANCELLED:
            return slot.cancelled()
        case E.TAKE:
            return slot.take()
        case E.CLEAR:
            return slot.clear()
    raise AssertionError(event)


def test_the_expectations_cover_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(PreconnectState, PreconnectEvent))
    assert {k: v for k, v in EXPECTED.items() if v is not None} == TRANSITIONS


@pytest.mark.parametrize(("pair", "following"), EXPECTED.items(), ids=str)
def test_every_state_and_event(
    pair: tuple[PreconnectState, PreconnectEvent], following: PreconnectState | None
) -> None:
    state, event = pair
    slot = slot_in(state)
    if following is None:
        with pytest.raises(IllegalTransitionError, match="preconnect slot"):
            fire(slot, event)
        assert slot.state is state
        return
    fire(slot, event)
    assert slot.state is following


# what the first turn gets, by the state it finds the slot in
TAKEN: list[tuple[PreconnectState, Taken[object]]] = [
    (IDLE, Empty()),
    (IN_FLIGHT, InFlight()),
    (READY, Ready(CONN)),
    (FAILED, Failed(ERROR)),
]


@pytest.mark.parametrize(("state", "taken"), TAKEN, ids=lambda v: str(v))
def test_take_hands_out_what_is_there_once(state: PreconnectState, taken: Taken[object]) -> None:
    slot = slot_in(state)
    assert slot.take() == taken
    assert slot.take() == Empty()  # a connection or a failure is handed out only once


def test_clear_returns_a_ready_connection_for_closing_and_forgets_a_failure() -> None:
    assert slot_in(READY).clear() is CONN
    failed = slot_in(FAILED)
    assert failed.clear() is None
    assert failed.take() == Empty()


# provider supports, feature on, model prefers, needs OpenAI auth -> websocket?, early warm-up?
DECISIONS = [
    (True, True, False, False, True, True),
    (True, False, True, False, True, True),
    (True, False, False, False, False, False),
    (False, True, True, False, False, False),
    # WebSockets, but the credentials come from the AuthManager: the client warms up later
    (True, True, True, True, True, False),
]


@pytest.mark.parametrize(
    ("supports", "feature", "prefers", "openai_auth", "websocket", "early"), DECISIONS
)
def test_the_client_and_the_early_warm_up_ask_the_same_question(
    supports: bool, feature: bool, prefers: bool, openai_auth: bool, websocket: bool, early: bool
) -> None:
    provider = ModelProviderInfo(
        name="p",
        base_url="http://127.0.0.1:1/v1",
        supports_websockets=supports,
        requires_openai_auth=openai_auth,
    )
    assert websockets_wanted(supports, feature_enabled=feature, model_prefers=prefers) is websocket
    choice = TransportChoice(supports, feature)
    assert choice.use_websocket(prefer_websockets=prefers) is websocket
    assert can_warm_early(provider, feature_enabled=feature, model_prefers=prefers) is early
