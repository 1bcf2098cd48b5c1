"""The official SDK (async and sync) receives the detail notifications as its own typed models:
raw reasoning text, summary parts, and a model reroute. Every message is schema-validated."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.conftest import TEST_MODEL, cli_env
from tests.sdk_support import sdk_client, wiretapped_binary

openai_codex = pytest.importorskip("openai_codex")

REQUESTED = "gpt-5.3-codex"
SERVED = "gpt-5.2"


def _reply() -> Reply:
    return Reply.text(
        "answered",
        reasoning_summary=("Plan.", "Check."),
        reasoning_text=("raw thought",),
        served_model=SERVED,
    )


def _check(methods: list[str], payloads: dict[str, list[Any]]) -> None:
    assert "item/reasoning/textDelta" in methods
    assert [p.summary_index for p in payloads["item/reasoning/summaryPartAdded"]] == [0, 1]
    assert "".join(p.delta for p in payloads["item/reasoning/textDelta"]) == "raw thought"
    (rerouted,) = payloads["model/rerouted"]
    assert type(rerouted).__name__ == "ModelReroutedNotification"
    assert (rerouted.from_model, rerouted.to_model) == (REQUESTED, SERVED)
    assert rerouted.model_dump(mode="json", by_alias=True)["reason"] == "highRiskCyberActivity"


async def test_async_sdk_streams_reasoning_detail_and_a_reroute(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    emulator.enqueue(_reply())
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start(model=REQUESTED)
        handle = await thread.turn("think hard")
        methods: list[str] = []
        payloads: dict[str, list[Any]] = {}
        async for event in handle.stream():
            methods.append(event.method)
            payloads.setdefault(event.method, []).append(event.payload)
    _check(methods, payloads)


async def test_sync_sdk_streams_reasoning_detail_and_a_reroute(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    emulator.enqueue(_reply())
    binary, wire = wiretapped_binary(tmp_path)
    config = openai_codex.CodexConfig(
        codex_bin=str(binary),
        config_overrides=(
            f"model={TEST_MODEL}",
            "model_provider=emulator",
            f"model_providers.emulator.base_url={emulator.base_url}",
        ),
        env=cli_env(codex_home),
        cwd=str(workdir),
    )

    def drive() -> tuple[list[str], dict[str, list[Any]]]:
        methods: list[str] = []
        payloads: dict[str, list[Any]] = {}
        with openai_codex.Codex(config) as codex:
            thread = codex.thread_start(model=REQUESTED)
            for event in thread.turn("think hard").stream():
                methods.append(event.method)
                payloads.setdefault(event.method, []).append(event.payload)
        return methods, payloads

    # The sync client blocks its thread; the emulator keeps serving on this loop.
    methods, payloads = await asyncio.to_thread(drive)
    _check(methods, payloads)
    assert wire.load().schema_errors() == []


async def test_sdk_models_parse_a_review_turn(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # The SDK has no public review call: its own request method and typed models carry it.
    from openai_codex.api import AsyncTurnHandle
    from openai_codex.generated.v2_all import ReviewStartResponse

    workdir = tmp_path / "work"
    workdir.mkdir()
    answer = '{"findings": [], "overall_correctness": "patch is correct", '
    answer += '"overall_explanation": "Nothing to fix.", "overall_confidence_score": 0.9}'
    emulator.enqueue(Reply.text(answer))
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start()
        params = {"threadId": thread.id, "target": {"type": "uncommittedChanges"}}
        started = await codex._client.request(
            "review/start", params, response_model=ReviewStartResponse
        )
        assert started.review_thread_id == thread.id
        result = await AsyncTurnHandle(codex, thread.id, started.turn.id).run()
    assert result.status.value == "completed"
    assert result.final_response == "Nothing to fix."
    # Items completed before the handle subscribed (enteredReviewMode) may not reach it.
    kinds = [item.root.type for item in result.items]
    assert kinds[-2:] == ["exitedReviewMode", "agentMessage"]
