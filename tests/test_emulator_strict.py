"""The strict emulator end to end: a request the real API refuses gets its 400 (HTTP) or error
frame (WebSocket), codex-engine reports it in one line, and the history bugs it exposed stay
fixed (an interrupted command's call is answered before the next request goes out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from codex_engine.config.catalog import find_model_info
from codex_engine.core.events import CommandStarted, TurnCompleted, TurnInterrupted
from codex_engine.core.prompt_history import ABORTED_OUTPUT
from codex_engine.core.session import Session, SessionDeps, SessionSettings
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.errors import InvalidRequestError
from codex_engine.protocol.items import FunctionCallOutput, user_message
from codex_engine.protocol.request import Prompt, RequestContext
from tests.conftest import make_client

ORPHAN = "No tool call found for function call output with call_id call_9."


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def orphan_body() -> dict[str, Any]:
    output = {"type": "function_call_output", "call_id": "call_9", "output": "hi"}
    return {"model": "gpt-5.1-codex", "input": [user("hi"), output], "stream": True}


async def test_http_orphan_output_gets_the_api_400_and_takes_no_scripted_reply(
    emulator: ResponsesEmulator,
) -> None:
    emulator.enqueue(Reply.text("kept for the next valid request"))
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        response = await client.post("/responses", json=orphan_body())

    assert response.status_code == 400
    expected = {"message": ORPHAN, "type": "invalid_request_error", "param": "input", "code": None}
    assert response.json() == {"error": expected}
    assert response.headers["x-request-id"].startswith("req_")
    assert emulator.requests[-1].error == expected
    assert emulator.pending_replies == 1


async def test_unknown_item_types_and_a_tools_string_are_refused(
    emulator: ResponsesEmulator,
) -> None:
    unknown = {"model": "gpt-5.1-codex", "input": [{"type": "turn_marker"}]}
    not_a_list = {"model": "gpt-5.1-codex", "input": [user("hi")], "tools": "not-a-list"}
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        answers = [await client.post("/responses", json=b) for b in (unknown, not_a_list)]

    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json()["error"]["param"] for a in answers] == ["input[0].type", "tools"]
    assert [a.json()["error"]["code"] for a in answers] == ["invalid_value", "invalid_type"]


async def test_websocket_orphan_output_gets_an_error_frame(emulator: ResponsesEmulator) -> None:
    async with connect(emulator.ws_url) as ws:
        await ws.send(json.dumps({"type": "response.create", **orphan_body()}))
        frame = json.loads(await ws.recv())
        # The connection stays usable after a refused request.
        await ws.send(json.dumps({"type": "response.create", **orphan_body(), "input": "hi"}))
        after = [json.loads(await ws.recv())]
        while after[-1]["type"] != "response.completed":
            after.append(json.loads(await ws.recv()))

    assert frame == {
        "type": "error",
        "status": 400,
        "error": {
            "message": ORPHAN,
            "type": "invalid_request_error",
            "param": "input",
            "code": None,
        },
        "headers": {},
    }
    assert emulator.requests_of("ws_message")[0].error == frame["error"]


async def test_websocket_follow_up_must_answer_the_calls_of_the_previous_response(
    emulator: ResponsesEmulator,
) -> None:
    emulator.enqueue(Reply.function_call("shell", {"command": ["ls"]}, call_id="call_ls"))
    async with connect(emulator.ws_url) as ws:
        await ws.send(
            json.dumps({"type": "response.create", "model": "gpt-5.1-codex", "input": "run ls"})
        )
        events = [json.loads(await ws.recv())]
        while events[-1]["type"] != "response.completed":
            events.append(json.loads(await ws.recv()))
        follow_up = {
            "type": "response.create",
            "model": "gpt-5.1-codex",
            "previous_response_id": events[-1]["response"]["id"],
            "input": [user("never mind the command")],
        }
        await ws.send(json.dumps(follow_up))
        frame = json.loads(await ws.recv())

    assert frame["type"] == "error"
    assert frame["error"]["message"] == "No tool output found for function call call_ls."


async def test_http_previous_response_id_needs_a_stored_response(
    emulator: ResponsesEmulator,
) -> None:
    first = {"model": "gpt-5.1-codex", "input": [user("hi")]}
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        unstored = await client.post("/responses", json={**first, "store": False})
        stored = await client.post("/responses", json={**first, "store": True})
        ids = [_completed_id(r.text) for r in (unstored, stored)]
        answers = [
            await client.post(
                "/responses", json={**first, "previous_response_id": i, "store": True}
            )
            for i in ids
        ]

    assert answers[0].status_code == 400
    assert answers[0].json()["error"]["code"] == "previous_response_not_found"
    assert answers[1].status_code == 200


def _completed_id(sse: str) -> str:
    for line in sse.splitlines():
        if line.startswith("data: ") and '"response.completed"' in line:
            return str(json.loads(line[6:])["response"]["id"])
    raise AssertionError("no response.completed event")


@pytest.mark.parametrize("websockets", [False, True], ids=["http", "websocket"])
async def test_codex_engine_reports_a_refused_history_in_one_line(
    emulator: ResponsesEmulator, websockets: bool
) -> None:
    prompt = Prompt(
        input=[user_message("hi"), FunctionCallOutput(call_id="call_9", output="hi")],
        base_instructions="Be brief.",
    )
    ctx = RequestContext(model="gpt-5.1-codex", thread_id="01a20f91-ab8c-71e1-b849-551d55bec741")
    extra = {"supports_websockets": True} if websockets else {}
    async with make_client(emulator.base_url, enable_websockets=websockets, **extra) as client:
        turn = client.new_session()
        with pytest.raises(InvalidRequestError) as caught:
            async for _ in turn.stream(prompt, ctx):
                pass
        await turn.aclose()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("The server rejected the request as invalid (HTTP 400")
    assert ORPHAN.rstrip(".") in message
    kind = "ws_message" if websockets else "http"
    assert emulator.requests_of(kind)[-1].error is not None


async def test_a_lenient_emulator_says_so_and_accepts_the_orphan() -> None:
    async with (
        ResponsesEmulator(strict=False) as lenient,
        httpx.AsyncClient(base_url=lenient.base_url) as client,
    ):
        response = await client.post("/responses", json=orphan_body())
        assert response.status_code == 200
        assert lenient.requests[-1].error is None


@pytest.mark.parametrize("websockets", [False, True], ids=["http", "websocket"])
async def test_after_an_interrupted_command_the_call_is_answered_aborted(
    emulator: ResponsesEmulator, tmp_path: Path, websockets: bool
) -> None:
    info, _ = find_model_info("gpt-5.1-codex")
    settings = SessionSettings(
        cwd=tmp_path,
        model_info=info,
        base_instructions="strict test",
        approval_policy="never",
        sandbox_mode="danger-full-access",
        unified_exec=False,  # the model calls `shell`
    )
    extra = {"supports_websockets": True} if websockets else {}
    emulator.enqueue(Reply.function_call("shell", {"command": ["sleep", "30"]}, call_id="call_z"))
    async with make_client(emulator.base_url, enable_websockets=websockets, **extra) as client:
        session = Session(settings, SessionDeps(client))
        async for event in session.run_turn("run the sleep"):
            if isinstance(event, CommandStarted):
                session.interrupt()
            last = event
        assert isinstance(last, TurnInterrupted)
        after = [event async for event in session.run_turn("hello again")]

    assert isinstance(after[-1], TurnCompleted), after[-1]
    kind = "ws_message" if websockets else "http"
    sent = emulator.requests_of(kind)[-1]
    assert sent.error is None
    items = sent.body["input"]
    answers = [i for i in items if i.get("type") == "function_call_output"]
    assert answers == [
        {"type": "function_call_output", "call_id": "call_z", "output": ABORTED_OUTPUT}
    ]
    if not websockets:  # over WebSocket the call itself went out with the previous response
        types = [i["type"] for i in items]
        assert types.index("function_call_output") == types.index("function_call") + 1
