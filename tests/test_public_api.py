"""The README's library example works as written, against the emulator."""

from __future__ import annotations

from pathlib import Path

import codex_engine
from codex_engine import AgentMessageDelta, TurnCompleted, load_config, open_session
from codex_engine.emulator import ResponsesEmulator


def test_every_exported_name_exists() -> None:
    for name in codex_engine.__all__:
        assert hasattr(codex_engine, name), name


async def test_library_turn_as_in_the_readme(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = load_config(
        overrides=[
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
        ],
        cwd=tmp_path,
    )
    text = ""
    completed = None
    async with open_session(config) as session:
        async for event in session.run_turn("hello library"):
            if isinstance(event, AgentMessageDelta):
                text += event.delta
            elif isinstance(event, TurnCompleted):
                completed = event
    assert "hello library" in text
    assert completed is not None and completed.summary.requests == 1
