"""``request_user_input`` as codex 0.163 answers it: refused in the default collaboration mode
(exec and app-server alike) unless feature ``default_mode_request_user_input`` is on; then the
app-server asks its client (``item/tool/requestUserInput``, the thread ``waitingOnUserInput``)
and hands the answers to the model, while ``exec``, with nobody to ask, answers empty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.app_server_start import Start
from tests.conftest import emulator_flags, run_cli
from tests.test_app_server import start_thread, start_turn

FEATURE = ("-c", "features.default_mode_request_user_input=true")
QUESTIONS: dict[str, Any] = {
    "questions": [
        {
            "id": "color",
            "header": "Color",
            "question": "Which color?",
            "options": [
                {"label": "Red", "description": "warm"},
                {"label": "Blue", "description": "cool"},
            ],
        },
        {
            "id": "size",
            "header": "Size",
            "question": "Which size?",
            "options": [
                {"label": "S", "description": "small"},
                {"label": "L", "description": "large"},
            ],
        },
    ]
}


def _ask(emulator: ResponsesEmulator) -> None:
    emulator.enqueue(Reply.function_call("request_user_input", QUESTIONS), Reply.text("thanks"))


def _output(emulator: ResponsesEmulator) -> str:
    last = emulator.requests_of("http")[-1].body["input"][-1]
    assert last["type"] == "function_call_output"
    return str(last["output"])


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), "request_user_input is unavailable in Default mode"),
        (FEATURE, '{"answers":{}}'),
    ],
    ids=["default-mode", "feature-on"],
)
async def test_exec_answers_request_user_input_as_the_reference(
    emulator: ResponsesEmulator,
    codex_home: Path,
    tmp_path: Path,
    flags: tuple[str, ...],
    expected: str,
) -> None:
    _ask(emulator)
    result = await run_cli(
        "exec", "--skip-git-repo-check", *flags, *emulator_flags(emulator.base_url), "ask me",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert _output(emulator) == expected
    offered = [t.get("name") for t in emulator.requests_of("http")[0].body["tools"]]
    assert "request_user_input" in offered


async def test_app_server_refuses_in_default_mode(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start()
    thread = await start_thread(client)
    _ask(emulator)
    await client.turn_completed(await start_turn(client, thread, "ask me"))
    assert _output(emulator) == "request_user_input is unavailable in Default mode"
    assert client.server_requests.empty()


async def test_app_server_forwards_the_questions_and_returns_the_answers(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(*FEATURE)
    thread = await start_thread(client)
    _ask(emulator)
    turn = await start_turn(client, thread, "ask me")
    request = await client.server_requests.get()
    assert request["method"] == "item/tool/requestUserInput"
    params = request["params"]
    assert params["threadId"] == thread and params["turnId"] == turn
    assert params["isBlocking"] is False and params["autoResolutionMs"] is None
    assert [q["id"] for q in params["questions"]] == ["color", "size"]
    first = params["questions"][0]
    assert first["isOther"] is True and first["isSecret"] is False
    assert first["options"] == QUESTIONS["questions"][0]["options"]
    statuses = [
        m["params"]["status"]
        for m in client.notifications
        if m["method"] == "thread/status/changed"
    ]
    assert statuses[-1] == {"type": "active", "activeFlags": ["waitingOnUserInput"]}
    answers = {"color": {"answers": ["Red"]}, "size": {"answers": ["L", "other text"]}}
    await client.send({"id": request["id"], "result": {"answers": answers}})
    await client.turn_completed(turn)
    assert json.loads(_output(emulator)) == {"answers": answers}
    call = emulator.requests_of("http")[-1].body["input"][-2]
    assert call["type"] == "function_call" and params["itemId"] == call["call_id"]
    resolved = [m for m in client.notifications if m["method"] == "serverRequest/resolved"]
    assert [m["params"] for m in resolved] == [{"threadId": thread, "requestId": request["id"]}]


async def test_app_server_client_error_gives_the_model_empty_answers(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(*FEATURE)
    thread = await start_thread(client)
    _ask(emulator)
    turn = await start_turn(client, thread, "ask me")
    request = await client.server_requests.get()
    await client.send({"id": request["id"], "error": {"code": -32000, "message": "no UI here"}})
    await client.turn_completed(turn)
    assert _output(emulator) == '{"answers":{}}'
