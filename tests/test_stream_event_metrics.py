"""End to end: what the client's metric call sites record when it streams from the emulator over
real sockets, read back through an in-memory exporter: stream events (failures such as error
frames, closes, undecodable events and ``response.failed`` tagged ``success=false``; kinds are
the wire's own names), WebSocket requests, API requests, the preconnect and the fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codex_engine.client.model_client import ModelClient
from codex_engine.emulator import HandshakeReply, RawEvent, Reply, ResponsesEmulator
from codex_engine.errors import CodexError, StreamError
from codex_engine.protocol.events import Completed
from codex_engine.protocol.headers import HeaderInputs, default_identity, handshake_headers
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, build_request_body
from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.testing import InMemoryMetricExporter
from codex_engine.transport.websocket import connect_websocket
from tests.metrics_support import (  # noqa: F401 (fixtures)
    BEARER,
    CTX,
    PROMPT,
    exported,
    exporter_fixture,
    metered_client,
    metrics_fixture,
)

WS_EVENT = "codex.websocket.event"
SSE_EVENT = "codex.sse_event"


def client_for(
    emulator: ResponsesEmulator, metrics: Metrics, *, websockets: bool, preconnect: bool = False
) -> ModelClient:
    return metered_client(
        emulator,
        metrics,
        websockets=websockets,
        preconnect=preconnect,
        stream_max_retries=0,
        request_max_retries=0,
    )


async def stream_once(client: ModelClient) -> list[Any]:
    return [event async for event in client.new_session().stream(PROMPT, CTX)]


#: The `type` of every event the emulator streams for a one-word text reply, in order; the
#: client parses only some of them, the metrics count them all.
TEXT_KINDS = (
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
)


# -- WebSocket -------------------------------------------------------------------------------


async def test_websocket_events_are_counted_under_their_wire_type_as_successes(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("one"))
    async with client_for(emulator, metrics, websockets=True) as client:
        session = client.new_session()
        events = [e async for e in session.stream(PROMPT, CTX)]
    assert isinstance(events[-1], Completed)
    snap = exported(metrics, exporter)
    for kind in TEXT_KINDS:
        assert snap.value(WS_EVENT, kind=kind, success="true") == 1, kind
        assert snap.count(WS_EVENT + ".duration_ms", kind=kind, success="true") == 1, kind
    assert snap.value(WS_EVENT, success="false") == 0
    assert snap.value(WS_EVENT) == len(TEXT_KINDS)
    assert snap.value(SSE_EVENT) == 0
    # The turn's runtime summary counts the same messages, its handshake and what it sent.
    summary = session.metrics.summary
    assert summary.websocket_events.count == len(TEXT_KINDS)
    assert summary.handshakes.count == 1 and not summary.preconnect_adopted
    (sent,) = emulator.requests_of("ws_message")
    size = len(json.dumps({"type": "response.create", **sent.body}, separators=(",", ":")))
    assert summary.body_bytes == summary.sent_bytes == size


async def test_websocket_requests_are_counted_with_connection_reuse(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("one"), Reply.text("two"))
    async with client_for(emulator, metrics, websockets=True) as client:
        session = client.new_session()
        first = [e async for e in session.stream(PROMPT, CTX)]
        follow_up = Prompt(
            input=[*PROMPT.input, user_message("again")], base_instructions="Be brief."
        )
        second = [e async for e in session.stream(follow_up, CTX)]
    assert isinstance(first[-1], Completed) and isinstance(second[-1], Completed)
    assert len(emulator.requests_of("ws_handshake")) == 1
    snap = exported(metrics, exporter)
    request = "codex.websocket.request"
    assert snap.value(request, success="true", connection_reused="false") == 1
    assert snap.value(request, success="true", connection_reused="true") == 1
    assert snap.count(request + ".duration_ms", success="true") == 2
    assert session.metrics.summary.websocket_calls.count == 2


async def test_a_response_failed_message_is_a_failed_event(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.failed({"code": "invalid_prompt", "message": "no"}))
    async with client_for(emulator, metrics, websockets=True) as client:
        with pytest.raises(CodexError):
            await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value(WS_EVENT, kind="response.created", success="true") == 1
    assert snap.value(WS_EVENT, kind="response.failed", success="false") == 1
    assert snap.value(WS_EVENT, kind="response.failed", success="true") == 0


async def test_an_error_frame_is_a_failed_error_event(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    # A 400 answer arrives over the socket as an error frame; it is not retried.
    emulator.enqueue(Reply.status(400, body={"error": {"message": "bad", "type": "invalid"}}))
    async with client_for(emulator, metrics, websockets=True) as client:
        with pytest.raises(CodexError):
            await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value(WS_EVENT, kind="error", success="false") == 1
    assert snap.value(WS_EVENT, success="true") == 0


async def test_a_close_before_completion_is_a_failed_unknown_event(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("cut short", drop_after=2), Reply.text("fine"))
    async with client_for(emulator, metrics, websockets=True) as client:
        # No stream retries: the session falls back to HTTP, where the request completes.
        events = await stream_once(client)
    assert isinstance(events[-1], Completed)
    snap = exported(metrics, exporter)
    assert snap.value(WS_EVENT, kind="response.created", success="true") == 1
    assert snap.value(WS_EVENT, kind="response.in_progress", success="true") == 1
    assert snap.value(WS_EVENT, kind="unknown", success="false") == 1
    assert snap.value(SSE_EVENT, kind="response.completed", success="true") == 1


def _created(response_id: str = "resp_raw") -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id}}


def _completed(response_id: str = "resp_raw") -> dict[str, Any]:
    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    return {
        "type": "response.completed",
        "response": {"id": response_id, "status": "completed", "output": [], "usage": usage},
    }


async def test_an_undecodable_message_is_a_failed_parse_error_and_the_stream_goes_on(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(
        Reply.events([_created(), RawEvent("{not json"), RawEvent('{"no_type": 1}'), _completed()])
    )
    async with client_for(emulator, metrics, websockets=True) as client:
        events = await stream_once(client)
    assert isinstance(events[-1], Completed)
    snap = exported(metrics, exporter)
    assert snap.value(WS_EVENT, kind="parse_error", success="false") == 1
    # A message without a type is tagged as the reference tags it, and is no failure.
    assert snap.value(WS_EVENT, kind="unknown", success="true") == 1
    assert snap.value(WS_EVENT, kind="response.completed", success="true") == 1


async def test_an_output_item_that_does_not_parse_is_a_failed_event(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    broken = {"type": "response.output_item.done", "output_index": 0, "item": "not an item"}
    emulator.enqueue(Reply.events([_created(), broken, _completed()]))
    async with client_for(emulator, metrics, websockets=True) as client:
        await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value(WS_EVENT, kind="response.output_item.done", success="false") == 1


async def test_a_request_the_socket_cannot_send_is_a_failed_websocket_request(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("cut", drop_after=1))
    headers = handshake_headers(
        HeaderInputs(identity=default_identity(), thread_id=CTX.thread_id, bearer=BEARER)
    )
    connection = await connect_websocket(
        emulator.ws_url, headers, connect_timeout=5.0, idle_timeout=5.0
    )
    turn = metrics.for_turn()
    message = {"type": "response.create", **build_request_body(PROMPT, CTX)}
    try:
        with pytest.raises(StreamError):
            [e async for e in connection.stream(message, turn.observer("websocket"))]
        # The server closed the socket: the next request on it cannot go out.
        with pytest.raises(StreamError):
            [e async for e in connection.stream(message, turn.observer("websocket"))]
    finally:
        await connection.aclose()
    snap = exported(metrics, exporter)
    request = "codex.websocket.request"
    assert snap.value(request, success="true", connection_reused="false") == 1
    assert snap.value(request, success="false", connection_reused="true") == 1
    assert turn.summary.websocket_calls.count == 2


async def test_the_startup_preconnect_is_timed_and_its_age_recorded(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    async with client_for(emulator, metrics, websockets=True, preconnect=True) as client:
        assert client.preconnect()
        await emulator.wait_for_request("ws_handshake")
        await stream_once(client)
    assert len(emulator.requests_of("ws_handshake")) == 1
    snap = exported(metrics, exporter)
    assert snap.count("codex.startup_prewarm.duration_ms", success="true") == 1
    assert snap.count("codex.startup_prewarm.age_at_first_turn_ms") == 1


async def test_a_refused_preconnect_and_the_fallback_are_recorded(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue_handshake(HandshakeReply.refuse(426), HandshakeReply.refuse(426))
    async with client_for(emulator, metrics, websockets=True, preconnect=True) as client:
        assert client.preconnect()
        events = await stream_once(client)
    assert isinstance(events[-1], Completed)
    assert emulator.requests_of("http")  # the request went over HTTP in the end
    snap = exported(metrics, exporter)
    assert snap.count("codex.startup_prewarm.duration_ms", success="false") == 1
    assert snap.count("codex.startup_prewarm.duration_ms", success="true") == 0
    assert snap.value("codex.transport.fallback_to_http", from_wire_api="responses_websocket") == 1


# -- HTTP / SSE -------------------------------------------------------------------------------


async def test_sse_events_are_counted_under_their_event_names_as_successes(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("one"))
    async with client_for(emulator, metrics, websockets=False) as client:
        session = client.new_session()
        events = [e async for e in session.stream(PROMPT, CTX)]
    assert isinstance(events[-1], Completed)
    snap = exported(metrics, exporter)
    for kind in TEXT_KINDS:
        assert snap.value(SSE_EVENT, kind=kind, success="true") == 1, kind
    assert snap.value(SSE_EVENT, success="false") == 0
    assert snap.count(SSE_EVENT + ".duration_ms") == len(TEXT_KINDS)
    assert snap.value(WS_EVENT) == 0
    assert session.metrics.summary.stream_events.count == len(TEXT_KINDS)


async def test_sse_failures_undecodable_data_and_done_are_tagged(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(
        Reply.events(
            [
                _created(),
                RawEvent("{not json", event="response.output_text.delta"),
                RawEvent("[DONE]", event="done"),
                RawEvent(json.dumps({"type": "response.in_progress"})),
                _completed(),
            ]
        ),
        Reply.failed({"code": "invalid_prompt", "message": "no"}),
    )
    async with client_for(emulator, metrics, websockets=False) as client:
        await stream_once(client)
        with pytest.raises(CodexError):
            await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value(SSE_EVENT, kind="response.output_text.delta", success="false") == 1
    assert snap.value(SSE_EVENT, kind="done", success="true") == 1
    # No `event:` line: the event-stream default type, as the reference's decoder names it.
    assert snap.value(SSE_EVENT, kind="message", success="true") == 1
    assert snap.value(SSE_EVENT, kind="response.failed", success="false") == 1
    assert snap.value(SSE_EVENT, kind="response.created", success="true") == 2


async def test_refused_and_unanswered_http_requests_are_failed_api_requests(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.status(400, body={"error": {"message": "bad", "type": "invalid"}}))
    async with client_for(emulator, metrics, websockets=False) as client:
        session = client.new_session()
        with pytest.raises(CodexError):
            [e async for e in session.stream(PROMPT, CTX)]
    # Nothing listens on a port the emulator gave up: the request gets no answer at all.
    closed = ResponsesEmulator()
    await closed.start()
    await closed.stop()
    async with client_for(closed, metrics, websockets=False) as client:
        with pytest.raises(CodexError):
            await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value("codex.api_request", status="400", transport="http", success="false") == 1
    assert snap.value("codex.api_request", status="none", success="false") == 1
    assert snap.value("codex.api_request", success="true") == 0
    assert session.metrics.summary.api_calls.count == 1


async def test_a_broken_sse_stream_is_a_failed_unknown_event(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("cut short", drop_after=2, drop_mode="abort"))
    async with client_for(emulator, metrics, websockets=False) as client:
        with pytest.raises(CodexError):
            await stream_once(client)
    snap = exported(metrics, exporter)
    assert snap.value(SSE_EVENT, kind="response.created", success="true") == 1
    assert snap.value(SSE_EVENT, kind="unknown", success="false") == 1
