"""The official ``openai-codex`` Python SDK, unchanged, drives ``codex-engine app-server``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.conftest import cli_env

openai_codex = pytest.importorskip("openai_codex")

CODEX_ENGINE_BIN = Path(sys.executable).parent / "codex-engine"


@pytest.fixture
async def codex(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[object]:
    config = openai_codex.CodexConfig(
        codex_bin=str(CODEX_ENGINE_BIN),
        config_overrides=(
            "model_provider=emulator",
            f"model_providers.emulator.base_url={emulator.base_url}",
        ),
        env=cli_env(codex_home),
        cwd=str(tmp_path),
    )
    async with openai_codex.AsyncCodex(config) as client:
        yield client


async def test_sdk_starts_a_thread_and_runs_two_turns(codex: object) -> None:
    assert codex.metadata.serverInfo.name == "codex_engine"  # type: ignore[attr-defined]
    thread = await codex.thread_start()  # type: ignore[attr-defined]
    first = await thread.run("say hello")
    assert first.status.value == "completed"
    assert "You said: say hello" in first.final_response
    assert first.usage.last.input_tokens > 0
    second = await thread.run("once more")
    assert second.status.value == "completed" and "once more" in second.final_response
    assert second.usage.total.input_tokens > first.usage.total.input_tokens
    read = await thread.read(include_turns=True)
    assert [t.status.value for t in read.thread.turns] == ["completed", "completed"]


async def test_sdk_streams_deltas_of_one_item(codex: object) -> None:
    thread = await codex.thread_start()  # type: ignore[attr-defined]
    handle = await thread.turn("stream this please")
    deltas: list[str] = []
    item_ids: set[str] = set()
    completed_text = None
    async for event in handle.stream():
        if event.method == "item/agentMessage/delta":
            deltas.append(event.payload.delta)
            item_ids.add(event.payload.item_id)
        elif event.method == "item/completed" and event.payload.item.root.type == "agentMessage":
            completed_text = event.payload.item.root.text
            assert {event.payload.item.root.id} == item_ids
    assert len(deltas) > 1 and "".join(deltas) == completed_text


async def test_sdk_lists_models(codex: object) -> None:
    models = await codex.models()  # type: ignore[attr-defined]
    ids = [m.id for m in models.data]
    assert "gpt-5.1-codex" in ids
    assert sum(m.is_default for m in models.data) == 1


async def test_sdk_interrupts_a_running_turn(codex: object, emulator: ResponsesEmulator) -> None:
    thread = await codex.thread_start()  # type: ignore[attr-defined]
    emulator.first_event_delay = 3600
    handle = await thread.turn("this will be interrupted")
    await emulator.wait_for_request("http")
    await handle.interrupt()
    result = await handle.run()
    assert result.status.value == "interrupted"
    emulator.first_event_delay = 0
    after = await thread.run("are you back?")
    assert after.status.value == "completed"
