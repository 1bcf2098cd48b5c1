"""Rollouts written before the items became msgspec Structs still resume: every stored item,
members no class models included, reaches the next request exactly as it was stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config.loader import load_config
from codex_engine.core.launch import open_session, resume_session
from codex_engine.core.rollout import RolloutError, load_rollout
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.items import item_to_json
from tests.conftest import TEST_MODEL

# Response items as the pydantic models wrote them (model_dump(mode="json", exclude_none=True)),
# each the real API accepts, several with members our classes do not model.
STORED: list[dict[str, Any]] = [
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0K", "detail": "low"},
            {"type": "input_text", "text": "what is this?"},
        ],
    },
    {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "looking"}],
        "encrypted_content": "gAAAAB-opaque",
        "status": "completed",
    },
    {
        "type": "function_call",
        "name": "search",
        "arguments": '{"q":"png"}',
        "call_id": "call_1",
        "namespace": "mcp__docs",
    },
    {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": [{"type": "input_text", "text": "an image format"}],
    },
    {"type": "function_call_output", "name": "lookup", "namespace": "ns", "output": "delivered"},
    {
        "type": "local_shell_call",
        "call_id": "call_2",
        "status": "completed",
        "action": {"type": "exec", "command": ["ls"]},
    },
    {"type": "compaction", "encrypted_content": "gAAAAB-summary"},
    {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "A PNG image.", "annotations": []}],
        "phase": "final_answer",
    },
]


def _line(payload: dict[str, Any]) -> str:
    record = {"timestamp": "2025-01-01T00:00:00.000Z", "type": "response_item", "payload": payload}
    return json.dumps(record, separators=(",", ":")) + "\n"


def _config(emulator: ResponsesEmulator, cwd: Path) -> Any:
    return load_config(
        overrides=[
            (["model"], TEST_MODEL),
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
            (["sandbox_mode"], "danger-full-access"),
            (["approval_policy"], "never"),
        ],
        cwd=cwd,
    )


async def test_stored_items_resume_into_the_next_request_unchanged(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = _config(emulator, tmp_path)
    async with open_session(config) as session:
        _ = [event async for event in session.run_turn("first question")]
        thread_id = session.thread_id
        assert session.recorder is not None
        path = session.recorder.path
    with path.open("a", encoding="utf-8") as rollout:
        rollout.writelines(_line(item) for item in STORED)

    loaded = load_rollout(path)
    assert [item_to_json(item) for item in loaded.items[-len(STORED) :]] == STORED

    async with resume_session(config, thread_id) as resumed:
        _ = [event async for event in resumed.run_turn("second question")]
    sent = emulator.requests_of("http")[-1].body["input"]
    start = sent.index(STORED[0])
    assert sent[start : start + len(STORED)] == STORED
    # ...and the resumed session's own record of them reads back the same.
    assert [item_to_json(item) for item in load_rollout(path).items][: len(loaded.items)] == [
        item_to_json(item) for item in loaded.items
    ]


def test_a_malformed_stored_item_names_its_file_line_and_member(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    meta = {"id": "0190a5c3-8f2e-7abc-9def-0123456789ab", "cwd": "/w", "originator": "o"}
    head = {"timestamp": "2025-01-01T00:00:00.000Z", "type": "session_meta", "payload": meta}
    bad = {"type": "function_call", "name": "f", "arguments": 1, "call_id": "c"}
    path.write_text(json.dumps(head) + "\n" + _line(STORED[0]) + _line(bad))
    with pytest.raises(RolloutError) as info:
        load_rollout(path)
    assert str(info.value) == (
        f"{path}:3: invalid response item (Expected `str`, got `int` - at `$.arguments`)"
    )
