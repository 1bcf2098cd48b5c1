"""The preconnect (its task driver over the pure slot) and the transport choice, no sockets.

Every (state, event) pair of the slot's table is walked in test_preconnect_state.py.
"""

from __future__ import annotations

import asyncio

import pytest

from codex_engine.client.preconnect import PreconnectState
from codex_engine.client.preconnector import Preconnector
from codex_engine.client.transport_choice import TransportChoice


class Conn:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


async def close(conn: Conn) -> None:
    conn.closed = True


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_idle_slot_gives_nothing() -> None:
    slot: Preconnector[Conn] = Preconnector(close)
    assert slot.state is PreconnectState.IDLE
    assert await slot.take() is None


async def test_ready_connection_is_taken_once() -> None:
    slot: Preconnector[Conn] = Preconnector(close)

    async def opener() -> Conn:
        return Conn("a")

    assert slot.start(opener)
    await settle()
    assert slot.state is PreconnectState.READY
    conn = await slot.take()
    assert conn is not None and conn.name == "a"
    assert slot.state is PreconnectState.IDLE
    assert await slot.take() is None


async def test_in_flight_handshake_is_awaited_by_the_turn() -> None:
    slot: Preconnector[Conn] = Preconnector(close)
    release = asyncio.Event()

    async def opener() -> Conn:
        await release.wait()
        return Conn("late")

    slot.start(opener)
    assert slot.state is PreconnectState.IN_FLIGHT
    taking = asyncio.create_task(slot.take())
    await settle()
    assert not taking.done()
    release.set()
    conn = await taking
    assert conn is not None and conn.name == "late"
    assert slot.state is PreconnectState.IDLE


async def test_failed_handshake_is_raised_to_the_turn_once() -> None:
    slot: Preconnector[Conn] = Preconnector(close)

    async def opener() -> Conn:
        raise ConnectionError("refused")

    slot.start(opener)
    await settle()
    assert slot.state is PreconnectState.FAILED
    with pytest.raises(ConnectionError):
        await slot.take()
    assert slot.state is PreconnectState.IDLE
    assert await slot.take() is None


async def test_start_is_a_no_op_unless_idle() -> None:
    slot: Preconnector[Conn] = Preconnector(close)
    opened: list[str] = []

    async def opener() -> Conn:
        opened.append("x")
        return Conn("x")

    assert slot.start(opener)
    assert not slot.start(opener)
    await settle()
    assert not slot.start(opener)  # ready: keep the warmed socket
    assert opened == ["x"]


async def test_clear_closes_a_ready_socket_and_cancels_one_in_flight() -> None:
    slot: Preconnector[Conn] = Preconnector(close)
    ready = Conn("ready")

    async def quick() -> Conn:
        return ready

    slot.start(quick)
    await settle()
    slot.clear()
    await settle()
    assert ready.closed and slot.state is PreconnectState.IDLE

    started = asyncio.Event()

    async def slow() -> Conn:
        started.set()
        await asyncio.Event().wait()
        return Conn("never")

    slot.start(slow)
    await started.wait()
    slot.clear()
    await settle()
    assert slot.state is PreconnectState.IDLE
    assert await slot.take() is None


def test_transport_choice_table() -> None:
    cases = [
        # provider supports, feature on, model prefers -> websocket?
        (True, True, False, True),
        (True, False, True, True),
        (True, False, False, False),
        (False, True, True, False),
    ]
    for supports, feature, prefers, expected in cases:
        choice = TransportChoice(supports, feature)
        assert choice.use_websocket(prefer_websockets=prefers) is expected


def test_fallback_is_sticky_and_reported_once() -> None:
    choice = TransportChoice(True, True)
    assert choice.fall_back() is True
    assert choice.fall_back() is False
    assert choice.use_websocket(prefer_websockets=True) is False
