"""The model client over HTTP+SSE against the emulator: retries, drops, timeouts, turn state."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from codex_engine.client.events import ClientEvent, Retrying
from codex_engine.client.turn_session import ModelClientSession
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.errors import (
    ConnectionFailedError,
    ContextWindowExceededError,
    InvalidRequestError,
    RequestTimeoutError,
    UnauthorizedError,
    UsageLimitReachedError,
)
from codex_engine.protocol.events import Completed, OutputItemDone, OutputTextDelta, RateLimits
from codex_engine.protocol.items import FunctionCall, user_message
from codex_engine.protocol.request import Prompt, RequestContext
from tests.conftest import SleepRecorder, make_client

CTX = RequestContext(model="gpt-5.1-codex", thread_id="thread-1", turn_id="turn-1")


def prompt(text: str = "say hello") -> Prompt:
    return Prompt(input=[user_message(text)], base_instructions="Be brief.")


async def collect(session: ModelClientSession, p: Prompt | None = None) -> list[ClientEvent]:
    return [event async for event in session.stream(p or prompt(), CTX)]


def text_of(events: list[ClientEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, OutputTextDelta))


async def test_text_reply_streams_to_completion(emulator: ResponsesEmulator) -> None:
    emulator.enqueue(Reply.text("hello there world"))
    async with make_client(emulator.base_url) as client:
        events = await collect(client.new_session())
    assert text_of(events) == "hello there world"
    assert isinstance(events[-1], Completed)
    assert events[-1].token_usage is not None
    assert any(isinstance(e, RateLimits) for e in events)


async def test_500_500_then_success_retries_twice_with_backoff(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.status(500), Reply.status(500), Reply.text("ok now"))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        events = await collect(client.new_session())
    assert text_of(events) == "ok now"
    assert [e.retry for e in events if isinstance(e, Retrying)] == [1, 2]
    assert len(sleeps.delays) == 2
    # 200 ms × 2^(n-1) ± 10%
    assert 0.18 <= sleeps.delays[0] <= 0.22
    assert 0.36 <= sleeps.delays[1] <= 0.44
    assert len(emulator.requests_of("http")) == 3


async def test_429_with_retry_after_waits_that_long(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.status(429, retry_after=3), Reply.text("done"))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        events = await collect(client.new_session())
    assert text_of(events) == "done"
    assert sleeps.delays == [3.0]


async def test_retry_after_ms_is_honoured_for_5xx(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.status(502, retry_after_ms=1500), Reply.text("done"))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        await collect(client.new_session())
    assert sleeps.delays == [1.5]


async def test_usage_limit_429_is_not_retried(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    body = {
        "error": {
            "type": "usage_limit_reached",
            "message": "limit",
            "plan_type": "plus",
            "resets_at": 1_900_000_000,
        }
    }
    emulator.enqueue(Reply.status(429, body=body, retry_after=5))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        with pytest.raises(UsageLimitReachedError) as info:
            await collect(client.new_session())
    assert info.value.resets_at is not None
    assert sleeps.delays == []
    assert len(emulator.requests_of("http")) == 1


async def test_request_retries_stop_at_request_max_retries(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(*[Reply.status(500) for _ in range(3)])
    async with make_client(emulator.base_url, sleep=sleeps, request_max_retries=2) as client:
        with pytest.raises(Exception) as info:
            await collect(client.new_session())
    assert getattr(info.value, "status", None) == 500
    assert len(emulator.requests_of("http")) == 3
    assert len(sleeps.delays) == 2


async def test_bad_request_is_not_retried(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.status(400, body={"error": {"message": "bad field `foo`"}}))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        with pytest.raises(InvalidRequestError):
            await collect(client.new_session())
    assert sleeps.delays == []


async def test_mid_stream_drop_recovers_without_duplicated_text(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    text = "one two three four five six seven"
    # created, in_progress, item added, part added, then two deltas before the cut
    emulator.enqueue(Reply.text(text, drop_after=6), Reply.text(text))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        events = await collect(client.new_session())
    assert text_of(events) == text
    assert sum(isinstance(e, Retrying) for e in events) == 1
    assert sum(isinstance(e, OutputItemDone) for e in events) == 1
    assert len(emulator.requests_of("http")) == 2


async def test_drop_after_a_finished_item_does_not_repeat_it(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    call = Reply.function_call("shell", {"command": ["true"]}, call_id="call_x")
    emulator.enqueue(call.with_options(drop_after=7), call)
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        events = await collect(client.new_session())
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert len(done) == 1 and isinstance(done[0], FunctionCall)


async def test_idle_timeout_fires_when_the_server_goes_silent(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(Reply.text("slow", event_delay=30))
    async with make_client(
        emulator.base_url, sleep=sleeps, stream_idle_timeout_ms=100, stream_max_retries=0
    ) as client:
        with pytest.raises(RequestTimeoutError, match="idle timeout"):
            await collect(client.new_session())


async def test_stream_ending_without_completed_is_retried_then_fails(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    cut = [{"type": "response.created", "response": {"id": "resp_x"}}]
    emulator.enqueue(*[Reply.events(cut) for _ in range(3)])
    async with make_client(emulator.base_url, sleep=sleeps, stream_max_retries=2) as client:
        with pytest.raises(Exception, match=r"before response\.completed"):
            await collect(client.new_session())
    assert len(emulator.requests_of("http")) == 3


async def test_failed_response_with_context_window_code_is_not_retried(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.enqueue(
        Reply.failed({"code": "context_length_exceeded", "message": "too long"}), Reply.text("x")
    )
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        with pytest.raises(ContextWindowExceededError):
            await collect(client.new_session())
    assert sleeps.delays == []


async def test_rate_limit_failure_waits_the_time_the_server_names(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    error = {"code": "rate_limit_exceeded", "message": "Rate limit reached. Try again in 1.5s."}
    emulator.enqueue(Reply.failed(error), Reply.text("fine"))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        events = await collect(client.new_session())
    assert text_of(events) == "fine"
    assert sleeps.delays == [1.5]


async def test_unauthorized_surfaces_without_a_loop(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.required_bearer = "sk-right"
    async with make_client(emulator.base_url, sleep=sleeps, bearer="sk-wrong") as client:
        with pytest.raises(UnauthorizedError) as info:
            await collect(client.new_session())
    assert "sk-wrong" not in str(info.value)
    assert len(emulator.requests_of("http")) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_retried_then_named(sleeps: SleepRecorder) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    async with make_client(url, sleep=sleeps, request_max_retries=2) as client:
        with pytest.raises(ConnectionFailedError, match="could not connect"):
            await collect(client.new_session())
    assert len(sleeps.delays) == 2


async def test_turn_state_is_echoed_within_a_turn_and_forgotten_after(
    emulator: ResponsesEmulator,
) -> None:
    issued = iter(["ts-1", "ts-2", "ts-3", "ts-4"])
    emulator.turn_state = lambda _request: next(issued)
    async with make_client(emulator.base_url) as client:
        first_turn = client.new_session()
        await collect(first_turn)
        await collect(first_turn)
        assert first_turn.turn_state == "ts-1"
        second_turn = client.new_session()
        await collect(second_turn)
        await collect(second_turn)
    sent = [r.headers.get("x-codex-turn-state") for r in emulator.requests_of("http")]
    # first value wins inside a turn; the next turn starts without a token
    assert sent == [None, "ts-1", None, "ts-3"]


async def test_turn_state_is_echoed_on_retries(
    emulator: ResponsesEmulator, sleeps: SleepRecorder
) -> None:
    emulator.turn_state = "sticky"
    emulator.enqueue(Reply.text("a b c d", drop_after=5), Reply.text("a b c d"))
    async with make_client(emulator.base_url, sleep=sleeps) as client:
        await collect(client.new_session())
    sent = [r.headers.get("x-codex-turn-state") for r in emulator.requests_of("http")]
    assert sent == [None, "sticky"]


async def test_provider_headers_and_query_params_are_sent(emulator: ResponsesEmulator) -> None:
    async with make_client(
        emulator.base_url,
        http_headers={"X-Static": "1"},
        query_params={"api-version": "2025-04-01"},
    ) as client:
        await collect(client.new_session())
    request = emulator.requests_of("http")[0]
    assert request.headers["x-static"] == "1"
    assert request.query == {"api-version": "2025-04-01"}


async def test_large_event_arrives_intact(emulator: ResponsesEmulator) -> None:
    emulator.enqueue(Reply.text("tail", oversized_event_bytes=2 * 1024 * 1024))
    async with make_client(emulator.base_url) as client:
        events = await collect(client.new_session())
    deltas = [e.delta for e in events if isinstance(e, OutputTextDelta)]
    assert len(deltas[0]) == 2 * 1024 * 1024
    assert "".join(deltas[1:]) == "tail"


def _body(request: Any) -> dict[str, Any]:
    body: dict[str, Any] = request.body
    return body
