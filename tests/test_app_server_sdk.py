"""The official ``openai-codex`` Python SDK, unchanged, drives ``codex-engine app-server``."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.sdk_support import sdk_client

openai_codex = pytest.importorskip("openai_codex")

CODEX_ENGINE_BIN = Path(sys.executable).parent / "codex-engine"


@pytest.fixture
async def codex(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[object]:
    # Every message of the session is validated against the reference schema and ours when the
    # client closes (tests/sdk_support.py).
    workdir = tmp_path / "work"
    workdir.mkdir()
    async with sdk_client(emulator, codex_home, workdir) as (client, _wire):
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
    # 0.163's list; our earlier entries (the configured TEST_MODEL among them) are hidden.
    assert "gpt-6.1-sol" in ids and "gpt-5.1-codex" not in ids
    everything = await codex.models(include_hidden=True)  # type: ignore[attr-defined]
    assert "gpt-5.1-codex" in [m.id for m in everything.data]
    assert [m.id for m in everything.data if m.is_default] == ["gpt-5.1-codex"]


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


async def test_sdk_resumes_and_forks_a_thread(codex: object, emulator: ResponsesEmulator) -> None:
    thread = await codex.thread_start(base_instructions="You are BASE-SDK.")  # type: ignore[attr-defined]
    await thread.run("first question")
    await thread.run("second question")
    # Rejoining a loaded thread gives the same thread back.
    resumed = await codex.thread_resume(thread.id)  # type: ignore[attr-defined]
    assert resumed.id == thread.id
    third = await resumed.run("third question")
    assert third.status.value == "completed"
    assert emulator.requests_of("http")[-1].body["instructions"] == "You are BASE-SDK."

    forked = await codex.thread_fork(thread.id)  # type: ignore[attr-defined]
    assert forked.id != thread.id
    read = await forked.read(include_turns=True)
    assert read.thread.forked_from_id == thread.id
    assert len(read.thread.turns) == 3
    after = await forked.run("on the fork")
    assert after.status.value == "completed"
    request = emulator.requests_of("http")[-1].body
    assert request["instructions"] == "You are BASE-SDK."
    texts = json.dumps(request["input"])
    assert "first question" in texts and "third question" in texts

    listed = await codex.thread_list()  # type: ignore[attr-defined]
    assert [t.id for t in listed.data][:2] == [forked.id, thread.id]


async def test_sdk_signs_in_with_an_api_key_and_out(codex: object, codex_home: Path) -> None:
    # The emulator provider does not use OpenAI sign-in: as codex 0.163, no account is shown.
    before = await codex.account()  # type: ignore[attr-defined]
    assert before.account is None and before.requires_openai_auth is False
    await codex.login_api_key("sk-sdk-secret-0123456789")  # type: ignore[attr-defined]
    signed_in = await codex.account()  # type: ignore[attr-defined]
    assert signed_in.account is None and signed_in.requires_openai_auth is False
    assert "sk-sdk-secret-0123456789" in (codex_home / "auth.json").read_text()
    await codex.logout()  # type: ignore[attr-defined]
    after = await codex.account()  # type: ignore[attr-defined]
    assert after.account is None
    assert not (codex_home / "auth.json").exists()


async def test_sdk_names_and_archives_a_thread(codex: object) -> None:
    thread = await codex.thread_start()  # type: ignore[attr-defined]
    await thread.run("something to remember")
    await thread.set_name("my thread")
    read = await thread.read(include_turns=True)
    assert read.thread.name == "my thread"
    await codex.thread_archive(thread.id)  # type: ignore[attr-defined]
    assert thread.id not in [t.id for t in (await codex.thread_list()).data]  # type: ignore[attr-defined]
    archived = await codex.thread_list(archived=True)  # type: ignore[attr-defined]
    assert [t.id for t in archived.data] == [thread.id]
    restored = await codex.thread_unarchive(thread.id)  # type: ignore[attr-defined]
    again = await restored.read(include_turns=True)
    assert again.thread.name == "my thread"
    kinds = [item.root.type for turn in again.thread.turns for item in turn.items]
    assert "userMessage" in kinds and "agentMessage" in kinds
