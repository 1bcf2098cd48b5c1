"""The Responses API emulator over real loopback sockets: SSE, WebSocket, faults, recording."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import zstandard
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from codex_engine.emulator import HandshakeReply, RecordedRequest, Reply, ResponsesEmulator, serve
from codex_engine.emulator.render import oversized_payload

TWO_MIB = 2 * 1024 * 1024
SHELL_TOOL = {"type": "function", "name": "shell", "parameters": {"type": "object"}}


@pytest.fixture
async def emu() -> AsyncIterator[ResponsesEmulator]:
    async with ResponsesEmulator() as emulator:
        yield emulator


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def request_body(
    *items: dict[str, Any], tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"model": "gpt-5.1-codex", "input": list(items), "tools": tools or [], "stream": True}


def parse_sse(raw: str) -> list[dict[str, Any]]:
    events = []
    for frame in raw.split("\n\n"):
        lines = frame.splitlines()
        data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
        names = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
        if data:
            event = json.loads("\n".join(data))
            assert names == [event["type"]]
            events.append(event)
    return events


async def post_sse(
    emu: ResponsesEmulator, body: dict[str, Any], **kwargs: Any
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    async with (
        httpx.AsyncClient(base_url=emu.base_url) as client,
        client.stream("POST", "/responses", json=body, **kwargs) as response,
    ):
        raw = (await response.aread()).decode()
    return response, parse_sse(raw)


async def ws_events(ws: ClientConnection) -> list[dict[str, Any]]:
    """Frames until a terminal event (completed / failed / error)."""
    events = []
    while True:
        event = json.loads(await ws.recv())
        events.append(event)
        if event["type"] in ("response.completed", "response.failed", "error"):
            return events


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


async def test_scripted_text_reply_streams_words_and_completes(emu: ResponsesEmulator) -> None:
    response, events = await post_sse(emu, request_body(user("hello there")))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    assert float(response.headers["x-codex-primary-used-percent"]) >= 0
    assert int(response.headers["x-codex-primary-window-minutes"]) > 0
    assert int(response.headers["x-codex-primary-reset-at"]) > 0
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) > 3
    full = text_of(events)
    assert "hello there" in full and "emulator" in full
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == full
    completed = events[-1]["response"]
    assert completed["status"] == "completed"
    assert completed["id"] == events[0]["response"]["id"]
    assert completed["output"][0]["content"][0]["text"] == full
    usage = completed["usage"]
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] == len(full.split())
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0}
    assert emu.requests[0].kind == "http"
    assert emu.requests[0].body["input"][0]["content"][0]["text"] == "hello there"


async def test_scripted_model_calls_shell_when_asked_to_run_a_command(
    emu: ResponsesEmulator,
) -> None:
    _, events = await post_sse(emu, request_body(user("please run `echo hi`"), tools=[SHELL_TOOL]))

    added = next(e for e in events if e["type"] == "response.output_item.added")
    assert added["item"]["type"] == "function_call"
    assert added["item"]["arguments"] == ""
    assert added["item"]["id"].startswith("fc_")
    assert added["item"]["call_id"].startswith("call_")
    arg_deltas = "".join(
        e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
    )
    done = next(e for e in events if e["type"] == "response.output_item.done")["item"]
    assert done["name"] == "shell"
    assert arg_deltas == done["arguments"]
    assert json.loads(done["arguments"]) == {"command": ["bash", "-lc", "echo hi"]}
    assert events[-1]["response"]["output"] == [done]


async def test_without_a_shell_tool_the_model_only_talks(emu: ResponsesEmulator) -> None:
    _, events = await post_sse(emu, request_body(user("run `echo hi`")))

    assert not any(e["type"].startswith("response.function_call") for e in events)
    assert "run `echo hi`" in text_of(events)


async def test_scripted_model_summarises_a_function_call_output(emu: ResponsesEmulator) -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_1", "output": "hi\nthere\n"}
    _, events = await post_sse(
        emu, request_body(user("run `echo hi`"), call, output, tools=[SHELL_TOOL])
    )

    assert text_of(events) == "The command finished. Its output was:\nhi\nthere"
    assert events[-1]["type"] == "response.completed"


async def test_status_replies_are_served_in_order_then_the_default(
    emu: ResponsesEmulator,
) -> None:
    emu.enqueue(Reply.status(500), Reply.status(500))
    body = request_body(user("hi"))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        first = await client.post("/responses", json=body)
        second = await client.post("/responses", json=body)
    _, events = await post_sse(emu, body)

    assert [first.status_code, second.status_code] == [500, 500]
    assert first.json()["error"]["type"] == "server_error"
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert events[-1]["type"] == "response.completed"
    assert [r.kind for r in emu.requests] == ["http", "http", "http"]
    assert emu.pending_replies == 0


async def test_429_carries_retry_after(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.status(429, retry_after=2, retry_after_ms=1500))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        response = await client.post("/responses", json=request_body(user("hi")))

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_custom_error_body_is_sent_verbatim(emu: ResponsesEmulator) -> None:
    error = {"error": {"type": "usage_limit_reached", "plan_type": "plus", "resets_at": 1}}
    emu.enqueue(Reply.status(429, body=error, headers={"x-codex-active-limit": "codex"}))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        response = await client.post("/responses", json=request_body(user("hi")))

    assert response.json() == error
    assert response.headers["x-codex-active-limit"] == "codex"


async def test_drop_after_cuts_the_sse_body_short(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.text("one two three four five", drop_after=3))
    received = b""
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream(
                "POST", "/responses", json=request_body(user("hi"))
            ) as response:
                async for chunk in response.aiter_bytes():
                    received += chunk

    events = parse_sse(received.decode())
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]


async def test_zstd_body_is_decoded_and_recorded_as_compressed(emu: ResponsesEmulator) -> None:
    raw = json.dumps(request_body(user("squeeze me " * 200))).encode()
    compressed = zstandard.ZstdCompressor(level=3).compress(raw)
    headers = {"Content-Encoding": "zstd", "Content-Type": "application/json"}
    _, events = await post_sse(emu, {}, content=compressed, headers=headers)

    assert events[-1]["type"] == "response.completed"
    recorded = emu.requests[0]
    assert recorded.compressed
    assert recorded.raw_size == len(compressed) < len(raw)
    assert recorded.decoded_size == len(raw)
    assert recorded.body["input"][0]["content"][0]["text"].startswith("squeeze me")
    assert recorded.headers["content-encoding"] == "zstd"


async def test_bad_bodies_get_openai_style_400s(emu: ResponsesEmulator) -> None:
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        not_json = await client.post("/responses", content=b"{nope")
        no_model = await client.post("/responses", json={"input": []})
        no_input = await client.post("/responses", json={"model": "gpt-5.1-codex"})

    for response in (not_json, no_model, no_input):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert not_json.json()["error"]["code"] is None
    # The API's answer to a missing field: its name as `param`, a code saying what is wrong.
    for response, name in ((no_model, "model"), (no_input, "input")):
        assert response.json()["error"] == {
            "message": f"Missing required parameter: '{name}'.",
            "type": "invalid_request_error",
            "param": name,
            "code": "missing_required_parameter",
        }


async def test_required_bearer_rejects_other_tokens(emu: ResponsesEmulator) -> None:
    emu.required_bearer = "sk-good"
    body = request_body(user("hi"))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        bad = await client.post("/responses", json=body, headers={"Authorization": "Bearer x"})
    good, events = await post_sse(emu, body, headers={"Authorization": "Bearer sk-good"})

    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "invalid_api_key"
    assert good.status_code == 200 and events[-1]["type"] == "response.completed"


async def test_turn_state_header_on_sse_comes_from_a_callable_per_request(
    emu: ResponsesEmulator,
) -> None:
    emu.turn_state = lambda request: f"ts-{len(emu.requests)}"
    first, _ = await post_sse(emu, request_body(user("a")))
    second, _ = await post_sse(emu, request_body(user("b")))

    assert first.headers["x-codex-turn-state"] == "ts-1"
    assert second.headers["x-codex-turn-state"] == "ts-2"
    assert [r.turn_state_sent for r in emu.requests] == ["ts-1", "ts-2"]


async def test_http_requests_on_one_connection_share_a_connection_id(
    emu: ResponsesEmulator,
) -> None:
    body = request_body(user("hi"))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        await client.post("/responses", json=body)
        await client.post("/responses", json=body)
    async with httpx.AsyncClient(base_url=emu.base_url) as other:
        await other.post("/responses", json=body)

    ids = [r.connection_id for r in emu.requests]
    assert ids[0] == ids[1] != ids[2]


async def test_oversized_delta_over_sse_arrives_intact(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.text("small tail", oversized_event_bytes=TWO_MIB))
    _, events = await post_sse(emu, request_body(user("hi")))

    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas[0] == oversized_payload(TWO_MIB)
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "".join(deltas)


async def test_models_endpoint_lists_codex_models(emu: ResponsesEmulator) -> None:
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        response = await client.get("/models", params={"client_version": "0.1.0"})

    payload = response.json()
    slugs = [m["slug"] for m in payload["models"]]
    assert {"gpt-5.1-codex", "gpt-5.1-codex-mini"} <= set(slugs)
    assert [d["id"] for d in payload["data"]] == slugs
    assert all(d["owned_by"] == "codex-engine-emulator" for d in payload["data"])
    assert all(m["context_window"] == 272000 for m in payload["models"])
    assert response.headers["etag"]
    assert emu.requests[0].kind == "models"
    assert emu.requests[0].query == {"client_version": "0.1.0"}


# --- WebSocket ------------------------------------------------------------------------------------


async def test_websocket_handshake_is_recorded_and_create_answered(
    emu: ResponsesEmulator,
) -> None:
    emu.turn_state = "sticky-1"
    headers = {"Authorization": "Bearer sk-1", "OpenAI-Beta": "responses_websockets=2026-02-06"}
    async with connect(emu.ws_url, additional_headers=headers) as ws:
        assert ws.response is not None
        assert ws.response.headers["x-codex-turn-state"] == "sticky-1"
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi ws"))}))
        events = await ws_events(ws)

    assert events[-1]["type"] == "response.completed"
    assert "hi ws" in text_of(events)
    handshake, message = emu.requests
    assert handshake.kind == "ws_handshake"
    assert handshake.headers["openai-beta"] == "responses_websockets=2026-02-06"
    assert handshake.headers["authorization"] == "Bearer sk-1"
    assert handshake.turn_state_sent == "sticky-1"
    assert message.kind == "ws_message"
    assert message.body["type"] == "response.create"
    assert message.connection_id == handshake.connection_id


async def test_websocket_follow_up_uses_previous_response_id(emu: ResponsesEmulator) -> None:
    async with connect(emu.ws_url) as ws:
        await ws.send(
            json.dumps(
                {"type": "response.create", **request_body(user("run `ls`"), tools=[SHELL_TOOL])}
            )
        )
        first = await ws_events(ws)
        response_id = first[-1]["response"]["id"]
        call_id = first[-1]["response"]["output"][0]["call_id"]
        output = {"type": "function_call_output", "call_id": call_id, "output": "a.txt"}
        follow_up = {"type": "response.create", "previous_response_id": response_id}
        await ws.send(json.dumps({**follow_up, **request_body(output)}))
        second = await ws_events(ws)
        await ws.send(
            json.dumps({**request_body(output), **follow_up, "previous_response_id": "x"})
        )
        unknown = await ws_events(ws)

    assert text_of(second) == "The command finished. Its output was:\na.txt"
    assert unknown[-1]["type"] == "error"
    assert unknown[-1]["error"]["code"] == "previous_response_not_found"


async def test_websocket_handshake_refused_with_426(emu: ResponsesEmulator) -> None:
    emu.enqueue_handshake(HandshakeReply.refuse(426))
    with pytest.raises(InvalidStatus) as refused:
        async with connect(emu.ws_url):
            pass
    async with connect(emu.ws_url) as ws:
        assert ws.response is not None

    assert refused.value.response.status_code == 426
    assert [r.kind for r in emu.requests] == ["ws_handshake", "ws_handshake"]


async def test_handshake_delay_holds_the_upgrade_back(emu: ResponsesEmulator) -> None:
    emu.handshake_delay = 0.5
    connecting = asyncio.create_task(connect(emu.ws_url).__aenter__())
    await emu.wait_for_request("ws_handshake")
    # The handshake arrived but is not answered yet; other traffic is served meanwhile.
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        models = await client.get("/models")
    assert models.status_code == 200
    assert not connecting.done()
    ws = await connecting
    await ws.close()


async def test_oversized_delta_over_websocket_arrives_intact(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.text("tail", oversized_event_bytes=TWO_MIB))
    async with connect(emu.ws_url, max_size=8 * TWO_MIB) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        events = await ws_events(ws)

    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas[0] == oversized_payload(TWO_MIB)


async def test_large_client_frames_are_accepted(emu: ResponsesEmulator) -> None:
    big = request_body(user("x" * TWO_MIB))
    async with connect(emu.ws_url, max_size=8 * TWO_MIB) as ws:
        await ws.send(json.dumps({"type": "response.create", **big}))
        events = await ws_events(ws)

    assert events[-1]["type"] == "response.completed"
    assert len(emu.requests[-1].body["input"][0]["content"][0]["text"]) == TWO_MIB


async def test_websocket_429_becomes_an_error_frame(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.status(429, retry_after=1.5))
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        (frame,) = await ws_events(ws)
        # The connection stays usable after an error frame.
        await ws.send(json.dumps({"type": "response.create", **request_body(user("again"))}))
        after = await ws_events(ws)

    assert frame["type"] == "error"
    assert frame["status"] == 429
    assert frame["error"]["code"] == "rate_limit_exceeded"
    assert frame["headers"]["retry-after"] == "1.5"
    assert after[-1]["type"] == "response.completed"


async def test_websocket_unknown_message_type_gets_a_400_frame(emu: ResponsesEmulator) -> None:
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.append", "input": []}))
        (frame,) = await ws_events(ws)

    assert frame["status"] == 400
    assert emu.requests[-1].kind == "ws_message"


async def test_websocket_drop_after_closes_with_1011(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.text("one two three", drop_after=2))
    received = []
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        with pytest.raises(ConnectionClosedError) as closed:
            while True:
                received.append(json.loads(await ws.recv()))

    assert [e["type"] for e in received] == ["response.created", "response.in_progress"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


async def test_failed_reply_sends_created_then_failed(emu: ResponsesEmulator) -> None:
    error = {"code": "context_length_exceeded", "message": "too long"}
    emu.enqueue(Reply.failed(error))
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        events = await ws_events(ws)

    assert [e["type"] for e in events] == ["response.created", "response.failed"]
    assert events[1]["response"]["error"] == error


async def test_prewarm_request_completes_without_output(emu: ResponsesEmulator) -> None:
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", "generate": False, **request_body()}))
        events = await ws_events(ws)

    assert [e["type"] for e in events] == ["response.created", "response.completed"]
    assert events[-1]["response"]["output"] == []


async def test_wait_for_request_returns_the_recorded_request(emu: ResponsesEmulator) -> None:
    waiting = asyncio.create_task(emu.wait_for_request("models"))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        await client.get("/models")

    recorded = await waiting
    assert isinstance(recorded, RecordedRequest)
    assert recorded.kind == "models"


async def test_wait_for_request_fails_with_what_it_awaited_and_what_came(
    emu: ResponsesEmulator,
) -> None:
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        await client.get("/models")
    with pytest.raises(TimeoutError) as caught:
        await emu.wait_for_request("http", count=2, timeout=0.05)

    assert str(caught.value) == (
        "the emulator saw 0 'http' requests in 0.05s, the test waited for 2; "
        "recorded so far: ['models']"
    )


async def test_events_reply_sends_exactly_the_given_events(emu: ResponsesEmulator) -> None:
    given: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "resp_x"}},
        {"type": "custom.thing"},
    ]
    emu.enqueue(Reply.events(given))
    async with (
        httpx.AsyncClient(base_url=emu.base_url) as client,
        client.stream("POST", "/responses", json=request_body(user("hi"))) as response,
    ):
        raw = (await response.aread()).decode()

    assert parse_sse(raw) == given


async def test_enqueued_function_call_works_over_both_transports(emu: ResponsesEmulator) -> None:
    call = Reply.function_call("apply_patch", {"input": "x"}, call_id="call_fixed")
    emu.enqueue(call, call)
    _, over_http = await post_sse(emu, request_body(user("hi")))
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        over_ws = await ws_events(ws)

    for events in (over_http, over_ws):
        item = events[-1]["response"]["output"][0]
        assert item["call_id"] == "call_fixed"
        assert json.loads(item["arguments"]) == {"input": "x"}


async def test_stop_ends_open_websockets_and_streams() -> None:
    emu = ResponsesEmulator()
    await emu.start()
    emu.enqueue(Reply.text("never finishes", event_delay=3600))
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        ws = await connect(emu.ws_url)
        async with client.stream("POST", "/responses", json=request_body(user("hi"))) as sse:
            await emu.wait_for_request("http")
            await emu.stop()
            with pytest.raises(httpx.RemoteProtocolError):
                await sse.aread()
        await ws.wait_closed()

    assert ws.close_code == 1001


async def test_serve_reports_its_url_and_runs_until_cancelled() -> None:
    urls: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(serve(ready=urls.put_nowait))
    base_url = await urls.get()
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/models")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert response.status_code == 200
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")


async def test_websocket_drop_can_abort_without_a_close_frame(emu: ResponsesEmulator) -> None:
    emu.enqueue(Reply.text("one two three", drop_after=1, drop_mode="abort"))
    async with connect(emu.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **request_body(user("hi"))}))
        first = json.loads(await ws.recv())
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()

    assert first["type"] == "response.created"
    assert closed.value.rcvd is None
