"""The SDK options it gates on the runtime's protocol level, against codex-engine: external
messages (``toolOutput``), ``source=``, ``turn_service_tier=`` and ``include_turns=`` on resume and
fork. The SDK accepts them because ``initialize`` reports ``0.0.0`` and our generated schema
(``app-server generate-json-schema``) declares the fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.sdk_support import sdk_client

openai_codex = pytest.importorskip("openai_codex")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _opening_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in body["input"] if i.get("type") == "function_call_output"]


async def test_sdk_runs_an_external_message_as_a_delivered_tool_output(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir) as (codex, wire):
        assert codex.metadata.serverInfo.version == "0.0.0"
        thread = await codex.thread_start()
        message = openai_codex.ExternalMessage(
            tool_name="notify", content="build 42 passed", namespace="ci"
        )
        result = await thread.run(message)
        assert result.status.value == "completed"
        assert "build 42 passed" in result.final_response
        body = emulator.requests_of("http")[-1].body
        (delivered,) = _opening_items(body)
        assert delivered["name"] == "notify" and delivered["namespace"] == "ci"
        assert delivered["output"] == "build 42 passed" and "call_id" not in delivered
        # No user message opened the turn: the output has tool authority, not the user's.
        assert "build 42 passed" not in json.dumps(
            [i for i in body["input"] if i.get("role") == "user"]
        )
        read = await thread.read(include_turns=True)
        (turn,) = read.thread.turns
        first = turn.items[0].root
        assert first.type == "functionCallOutput" and first.id == delivered["id"]
        assert (first.name, first.namespace, first.output.root) == (
            "notify",
            "ci",
            "build 42 passed",
        )
        assert read.thread.preview == ""

        structured = openai_codex.ExternalMessage(
            tool_name="notify", content=[{"type": "input_text", "text": "structured words"}]
        )
        handle = await thread.turn(structured)
        methods = []
        async for event in handle.stream():
            methods.append(event.method)
            if (
                event.method == "item/completed"
                and event.payload.item.root.type == "functionCallOutput"
            ):
                assert event.payload.item.root.namespace is None
        assert methods[:3] == ["turn/started", "item/started", "item/completed"]
        await thread.run("and now a question")
        # The delivered outputs stay in the thread's history for the turns that follow.
        later = _opening_items(emulator.requests_of("http")[-1].body)
        assert [d["output"] for d in later] == [
            "build 42 passed",
            [{"type": "input_text", "text": "structured words"}],
        ]
    start = next(r for r in wire.requests("turn/start") if "toolOutput" in r["params"])
    assert start["params"]["input"] == []


async def test_sdk_source_and_turn_service_tier_apply_to_that_turn_only(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start()
        await thread.run("fast please", source="scheduler", turn_service_tier="priority")
        await thread.run("standard speed", turn_service_tier="default")
        await thread.run("as the thread says")
    first, second, third = (r for r in emulator.requests_of("http"))
    assert first.body["service_tier"] == "priority"
    metadata = json.loads(first.headers["x-codex-turn-metadata"])
    assert metadata["turn_trigger"] == "scheduler"
    for later in (second, third):
        assert "service_tier" not in later.body
        assert "turn_trigger" not in json.loads(later.headers["x-codex-turn-metadata"])


async def test_sdk_include_turns_on_resume_and_fork(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start()
        await thread.run("remember this")
        thread_id = thread.id
    # A new server: the thread is recorded, not loaded.
    async with sdk_client(emulator, codex_home, workdir) as (codex, wire):
        resumed = await codex.thread_resume(thread_id, include_turns=False)
        fork = await codex.thread_fork(thread_id, include_turns=True)
        bare_fork = await codex.thread_fork(thread_id, include_turns=False)
        again = await codex.thread_resume(thread_id, include_turns=True)
        assert resumed.id == again.id == thread_id and fork.id != thread_id != bare_fork.id
    responses = {
        (r["method"], r["params"]["excludeTurns"]): wire.response_to(r)["result"]
        for r in wire.requests("thread/resume") + wire.requests("thread/fork")
    }
    turn_counts = {key: len(result["thread"]["turns"]) for key, result in responses.items()}
    assert turn_counts == {
        ("thread/resume", True): 0,
        ("thread/resume", False): 1,
        ("thread/fork", False): 1,
        ("thread/fork", True): 0,
    }
