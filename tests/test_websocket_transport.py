"""WebSocket transport against the emulator: preconnect, reuse, turn state, fallback."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest

from codex_engine.client.preconnect import PreconnectState
from codex_engine.config.catalog import find_model_info
from codex_engine.config.loader import load_config
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    Retrying,
    TurnCompleted,
    TurnEvent,
    WarningEvent,
)
from codex_engine.core.launch import open_session, resume_session, start_preconnect
from codex_engine.core.session import Session, SessionDeps, SessionSettings
from codex_engine.emulator import HandshakeReply, Reply, ResponsesEmulator
from tests.conftest import TEST_MODEL, SleepRecorder, make_client


def settings(cwd: Path, *, prefer_websockets: bool = False) -> SessionSettings:
    info, _ = find_model_info("gpt-5.1-codex")
    if prefer_websockets:
        info = msgspec.structs.replace(info, prefer_websockets=True)
    return SessionSettings(
        cwd=cwd,
        model_info=info,
        base_instructions="ws test",
        approval_policy="never",
        sandbox_mode="danger-full-access",
    )


def launch(settings: SessionSettings, client: Any) -> Session:
    """A session as the launcher builds one: its preconnect started, then the session made."""
    start_preconnect(client, settings)
    return Session(settings, SessionDeps(client))


def ws_client(emulator: ResponsesEmulator, sleeps: SleepRecorder | None = None, **kw: Any) -> Any:
    kw.setdefault("supports_websockets", True)
    kw.setdefault("enable_websockets", True)
    return make_client(emulator.base_url, sleep=sleeps, **kw)


async def run(session: Session, text: str) -> list[TurnEvent]:
    return [event async for event in session.run_turn(text)]


def text_of(events: list[TurnEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, AgentMessageDelta))


def kinds(emulator: ResponsesEmulator) -> list[str]:
    return [r.kind for r in emulator.requests if r.kind != "models"]


async def test_startup_preconnect_happens_before_any_turn(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator) as client:
        launch(settings(tmp_path), client)
        handshake = await emulator.wait_for_request("ws_handshake")
        assert emulator.requests_of("ws_message") == []
    assert handshake.headers["openai-beta"] == "responses_websockets=2026-02-06"
    assert handshake.headers["authorization"] == "Bearer sk-test-123"
    assert "x-codex-turn-state" not in handshake.headers


async def test_building_a_session_starts_no_handshake(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator) as client:
        Session(
            settings(tmp_path), SessionDeps(client)
        )  # the launcher starts the preconnect, not __init__
        assert client.preconnector.state is PreconnectState.IDLE
    assert emulator.requests == []


async def test_the_launcher_preconnects_new_and_resumed_sessions_before_any_turn(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # The app-server's (and `exec resume`'s) path: no early handshake; the launcher starts one.
    config = load_config(
        overrides=[
            (["model"], TEST_MODEL),
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
            (["features", "responses_websockets"], True),
            (["sandbox_mode"], "danger-full-access"),
            (["approval_policy"], "never"),
        ],
        cwd=tmp_path,
    )
    async with open_session(config) as session:
        async with asyncio.timeout(30):  # fail here, not at the suite's timeout
            handshake = await emulator.wait_for_request("ws_handshake")
        assert emulator.requests_of("ws_message") == []
        assert handshake.headers["session-id"] == session.thread_id
        events = await run(session, "hello")
        assert session.client.preconnector.state is PreconnectState.IDLE  # taken by the turn
    assert isinstance(events[-1], TurnCompleted)
    async with resume_session(config, session.thread_id) as resumed:
        async with asyncio.timeout(30):
            again = await emulator.wait_for_request("ws_handshake", count=2)
        assert len(emulator.requests_of("ws_message")) == 1
        await run(resumed, "again")
    assert again.headers["session-id"] == session.thread_id
    assert kinds(emulator) == ["ws_handshake", "ws_message", "ws_handshake", "ws_message"]


async def test_first_turn_adopts_the_preconnected_socket(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        await emulator.wait_for_request("ws_handshake")
        events = await run(session, "run `echo adopted`")
    assert isinstance(events[-1], TurnCompleted)
    assert kinds(emulator) == ["ws_handshake", "ws_message", "ws_message"]
    assert "adopted" in text_of(events)
    messages = emulator.requests_of("ws_message")
    assert {m.connection_id for m in messages} == {
        emulator.requests_of("ws_handshake")[0].connection_id
    }


async def test_first_turn_waits_for_an_in_flight_preconnect(
    emulator: ResponsesEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.handshake_delay = 0.3
    caplog.set_level(logging.DEBUG, logger="codex_engine.client.turn_session")
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        # the turn starts while the handshake is still held by the server
        assert client.preconnector.state is PreconnectState.IN_FLIGHT
        events = await run(session, "hello")
        assert client.preconnector.state is PreconnectState.IDLE
    assert isinstance(events[-1], TurnCompleted)
    assert kinds(emulator) == ["ws_handshake", "ws_message"]
    waits = [r for r in caplog.records if "in-flight startup preconnect" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == logging.DEBUG


async def test_follow_up_uses_previous_response_id_with_only_the_tool_output(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        await run(session, "run `echo incremental`")
    first, second = (m.body for m in emulator.requests_of("ws_message"))
    assert first["type"] == "response.create" and "previous_response_id" not in first
    assert second["previous_response_id"] == "resp_1"
    assert [item["type"] for item in second["input"]] == ["function_call_output"]
    assert "incremental" in second["input"][0]["output"]
    for key in ("model", "instructions", "tools", "tool_choice", "store", "stream", "include"):
        assert second[key] == first[key]


async def test_second_turn_opens_a_new_connection_without_the_first_turns_token(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    tokens = iter(["ts-1", "ts-2"])
    emulator.turn_state = lambda _request: next(tokens)
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        await run(session, "first")
        await run(session, "second")
    handshakes = emulator.requests_of("ws_handshake")
    assert len(handshakes) == 2
    assert [h.headers.get("x-codex-turn-state") for h in handshakes] == [None, None]
    first, second = (m.body for m in emulator.requests_of("ws_message"))
    assert first["client_metadata"]["x-codex-turn-state"] == "ts-1"
    assert second["client_metadata"]["x-codex-turn-state"] == "ts-2"
    # the second turn sends the whole conversation, not an increment of the first turn's socket
    assert "previous_response_id" not in second


async def test_turn_state_is_echoed_on_a_websocket_reconnect(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.turn_state = "sticky-ws"
    text = "one two three four"
    emulator.enqueue(Reply.text(text, drop_after=5), Reply.text(text))
    async with ws_client(emulator, sleeps) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
    assert text_of(events) == text
    handshakes = emulator.requests_of("ws_handshake")
    assert [h.headers.get("x-codex-turn-state") for h in handshakes] == [None, "sticky-ws"]


async def test_close_mid_stream_is_retried_on_a_new_connection_without_duplicates(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    text = "alpha beta gamma delta epsilon"
    emulator.enqueue(Reply.text(text, drop_after=6), Reply.text(text))
    async with ws_client(emulator, sleeps) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hi")
    assert text_of(events) == text
    handshakes = emulator.requests_of("ws_handshake")
    messages = emulator.requests_of("ws_message")
    assert len(handshakes) == 2 and len(messages) == 2
    assert messages[0].connection_id != messages[1].connection_id
    assert len(sleeps.delays) == 1


async def test_426_at_the_turns_handshake_falls_back_to_http_at_once(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(HandshakeReply.refuse(426))
    async with ws_client(emulator, sleeps, enable_preconnect=False) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
        later = await run(session, "again")
    assert isinstance(events[-1], TurnCompleted) and isinstance(later[-1], TurnCompleted)
    warnings = [e for e in events + later if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "Falling back" in warnings[0].message
    assert kinds(emulator) == ["ws_handshake", "http", "http"]
    assert sleeps.delays == []
    assert client.fallbacks == 1


async def test_426_at_the_preconnect_is_confirmed_by_the_turn_then_http_sticks(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(HandshakeReply.refuse(426), HandshakeReply.refuse(426))
    async with ws_client(emulator, sleeps, stream_max_retries=0) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
        later = await run(session, "again")
    assert isinstance(events[-1], TurnCompleted) and isinstance(later[-1], TurnCompleted)
    warnings = [e for e in events + later if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "426" in warnings[0].message
    # the preconnect's 426, the turn's own confirming it, then HTTP for good
    assert kinds(emulator) == ["ws_handshake", "ws_handshake", "http", "http"]
    assert sleeps.delays == []
    assert client.fallbacks == 1


async def test_a_426_only_on_the_preconnect_leaves_the_turn_on_websockets(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(HandshakeReply.refuse(426))
    async with ws_client(emulator, sleeps, stream_max_retries=0) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
    assert isinstance(events[-1], TurnCompleted)
    assert not any(isinstance(e, WarningEvent) for e in events)
    assert kinds(emulator) == ["ws_handshake", "ws_handshake", "ws_message"]
    assert client.fallbacks == 0


async def test_with_no_stream_retries_refused_handshakes_still_get_two_attempts(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(*[HandshakeReply.refuse(500) for _ in range(10)])
    async with ws_client(emulator, sleeps, stream_max_retries=0) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
    assert isinstance(events[-1], TurnCompleted)
    # the preconnect's attempt does not use up the turn's (zero) retries
    assert kinds(emulator) == ["ws_handshake", "ws_handshake", "http"]
    assert sleeps.delays == []
    assert sum(isinstance(e, WarningEvent) for e in events) == 1


async def test_refused_handshakes_fall_back_after_two_attempts_and_stay_on_http(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(*[HandshakeReply.refuse(500) for _ in range(10)])
    async with ws_client(emulator, sleeps, stream_max_retries=1) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "run `echo via-http`")
        later = await run(session, "second turn")
        # a new session on the same client does not preconnect again after the fallback
        launch(settings(tmp_path), client)
        third = await run(session, "third turn")
    assert all(isinstance(e[-1], TurnCompleted) for e in (events, later, third))
    assert next(e for e in events if isinstance(e, CommandFinished)).exit_code == 0
    # the preconnect, the turn's attempt and its one retry: the preconnect drew on no budget
    assert len(emulator.requests_of("ws_handshake")) == 3
    assert kinds(emulator)[3:] == ["http"] * 4
    assert sum(isinstance(e, WarningEvent) for e in events + later + third) == 1


async def test_preconnect_failure_never_fails_the_session(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue_handshake(HandshakeReply.refuse(502))
    async with ws_client(emulator, sleeps) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
    assert isinstance(events[-1], TurnCompleted)
    assert kinds(emulator) == ["ws_handshake", "ws_handshake", "ws_message"]
    # the turn's own handshake went out at once: the preconnect's failure is no retry of it
    assert sleeps.delays == []
    assert not any(isinstance(e, Retrying) for e in events)


async def test_event_larger_than_one_mebibyte_arrives_intact(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(Reply.text("end", oversized_event_bytes=3 * 1024 * 1024))
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "big")
    deltas = [e.delta for e in events if isinstance(e, AgentMessageDelta)]
    assert len(deltas[0]) == 3 * 1024 * 1024


async def test_error_frame_maps_like_http(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.status(500), Reply.text("recovered"))
    async with ws_client(emulator, sleeps) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hi")
    assert text_of(events) == "recovered"
    assert len(sleeps.delays) == 1


async def test_model_preferring_websockets_uses_them_with_the_feature_off(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator, enable_websockets=False) as client:
        session = launch(settings(tmp_path, prefer_websockets=True), client)
        await run(session, "hello")
    assert kinds(emulator) == ["ws_handshake", "ws_message"]


async def test_provider_without_websockets_uses_http_even_with_the_feature_on(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator, supports_websockets=False) as client:
        session = launch(settings(tmp_path, prefer_websockets=True), client)
        await run(session, "hello")
    assert kinds(emulator) == ["http"]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


async def test_black_holed_handshake_costs_one_timeout_then_http(
    emulator: ResponsesEmulator, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    # Upgrades are held far longer than the connect timeout; plain HTTP is answered at once.
    emulator.handshake_delay = 30
    async with ws_client(emulator, sleeps, websocket_connect_timeout_ms=200) as client:
        session = launch(settings(tmp_path), client)
        events = await run(session, "hello")
        later = await run(session, "again")
    assert isinstance(events[-1], TurnCompleted) and isinstance(later[-1], TurnCompleted)
    # the preconnect paid the one timeout; no retry paid another
    assert len(emulator.requests_of("ws_handshake")) == 1
    assert sleeps.delays == []
    assert kinds(emulator)[1:] == ["http", "http"]
    assert sum(isinstance(e, WarningEvent) for e in events + later) == 1


async def test_with_preconnect_off_the_first_turn_opens_its_own_socket(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator, enable_preconnect=False) as client:
        session = launch(settings(tmp_path), client)
        assert emulator.requests == []
        events = await run(session, "run `echo cold`")
    assert isinstance(events[-1], TurnCompleted)
    assert kinds(emulator) == ["ws_handshake", "ws_message", "ws_message"]


async def test_debug_logging_of_the_handshake_never_shows_the_token(
    emulator: ResponsesEmulator, tmp_path: Path, caplog: Any
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    async with ws_client(emulator, bearer="sk-very-secret-token") as client:
        session = launch(settings(tmp_path), client)
        await run(session, "hello")
    assert "Authorization" in caplog.text  # the header line is logged, its value is not
    assert "sk-very-secret-token" not in caplog.text


async def test_fallback_clears_the_warmed_preconnect(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with ws_client(emulator) as client:
        session = launch(settings(tmp_path), client)
        await emulator.wait_for_request("ws_handshake")
        assert client.preconnector.state is not PreconnectState.IDLE  # in flight or ready
        assert client.fall_back_to_http("switched for the test")
        assert client.preconnector.state is PreconnectState.IDLE
        assert await client.preconnector.take() is None  # nothing left for a turn to adopt
        events = await run(session, "hello")
    assert isinstance(events[-1], TurnCompleted)
    assert kinds(emulator) == ["ws_handshake", "http"]
