"""The request codex-engine sends, compared with the reference CLI's wire capture."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.protocol.events import OutputItemDone
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput, user_message
from codex_engine.protocol.request import Prompt, ReasoningParams, RequestContext
from tests.conftest import make_client, require_reference

SSE_CAPTURE = "wire-captures/sse-turn-with-tool-call.json"
THREAD = "01a20f91-ab8c-71e1-b849-551d55bec741"

# Headers the 0.163.0 capture has that belong to later protocol versions (SPEC §1.3 [Current])
# or to the HTTP layer rather than the Responses protocol.
NOT_OURS = {"host", "content-length", "x-codex-window-id", "x-codex-beta-features"}


@pytest.fixture
def capture() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(require_reference(SSE_CAPTURE).read_text())
    return data


async def _send_tool_turn(emulator: ResponsesEmulator) -> list[Any]:
    emulator.turn_state = "turnstate-1"
    ctx = RequestContext(
        model="gpt-5.1-codex",
        thread_id=THREAD,
        turn_id="turn-1",
        reasoning=ReasoningParams(summary="auto"),
        turn_metadata={"turn_id": "turn-1", "sandbox": "none"},
    )
    history = [user_message("run echo")]
    tools = [{"type": "function", "name": "shell", "parameters": {"type": "object"}}]
    emulator.enqueue(Reply.function_call("shell", {"command": ["echo", "hi"]}), Reply.text("hi"))
    async with make_client(emulator.base_url) as client:
        turn = client.new_session()
        first = Prompt(input=history, base_instructions="Be brief.", tools=tools)
        # The follow-up carries the model's call and its output, as the reference does.
        (call,) = [
            e.item
            async for e in turn.stream(first, ctx)
            if isinstance(e, OutputItemDone) and isinstance(e.item, FunctionCall)
        ]
        history = [*history, call, FunctionCallOutput(call_id=call.call_id, output="hi\n")]
        second = Prompt(input=history, base_instructions="Be brief.", tools=tools)
        async for _ in turn.stream(second, ctx):
            pass
    return emulator.requests_of("http")


async def test_body_has_every_field_the_reference_sends(
    emulator: ResponsesEmulator, capture: list[dict[str, Any]]
) -> None:
    ours = [r.body for r in await _send_tool_turn(emulator)]
    for theirs, mine in zip(capture, ours, strict=True):
        reference = theirs["body"]
        missing = set(reference) - set(mine)
        assert not missing, f"fields the reference sends and we do not: {missing}"
        for key in ("tool_choice", "store", "stream", "include", "reasoning"):
            assert mine[key] == reference[key], key
        assert isinstance(mine["parallel_tool_calls"], bool)
        assert mine["prompt_cache_key"] == THREAD
        assert {"session_id", "thread_id", "turn_id", "x-codex-turn-metadata"} <= set(
            mine["client_metadata"]
        )
        assert mine["instructions"] == "Be brief."


async def test_follow_up_request_carries_the_tool_output_in_full(
    emulator: ResponsesEmulator,
) -> None:
    first, second = (r.body for r in await _send_tool_turn(emulator))
    assert [i["type"] for i in second["input"]][-2:] == ["function_call", "function_call_output"]
    assert "previous_response_id" not in second  # HTTP always sends the whole input
    assert len(second["input"]) == len(first["input"]) + 2


async def test_headers_match_the_reference_capture(
    emulator: ResponsesEmulator, capture: list[dict[str, Any]]
) -> None:
    ours = await _send_tool_turn(emulator)
    for theirs, mine in zip(capture, ours, strict=True):
        expected = {name.lower() for name in theirs["headers"]} - NOT_OURS
        missing = expected - set(mine.headers)
        assert not missing, f"headers the reference sends and we do not: {missing}"
        assert mine.headers["authorization"] == "Bearer sk-test-123"
        assert mine.headers["accept"] == "text/event-stream"
        assert mine.headers["session-id"] == THREAD
        metadata = json.loads(mine.headers["x-codex-turn-metadata"])
        assert metadata["turn_id"] == "turn-1"
    assert "x-codex-turn-state" not in ours[0].headers
    assert ours[1].headers["x-codex-turn-state"] == "turnstate-1"
