"""Base instructions through resume with another model, auto-compaction and a fork with an
override, when the catalog's models really have different instructions; and the hosted web
search re-resolved when the sandbox changes between turns."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from codex_engine.config import catalog
from codex_engine.core.events import ContextCompacted
from codex_engine.core.launch import fork_session, open_session, resume_session
from codex_engine.core.rollout import load_rollout
from codex_engine.core.settings import SettingsChange
from codex_engine.emulator import ResponsesEmulator
from tests.test_session_persistence import bodies, config_for, run

OTHER_MODEL = "gpt-5.2"
OTHER_INSTRUCTIONS = "You are gpt-5.2 and these instructions are only for it."


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path.resolve()


@pytest.fixture(autouse=True)
def distinct_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test catalog in which OTHER_MODEL's instructions differ from everyone else's."""
    entries = tuple(
        msgspec.structs.replace(m, base_instructions=OTHER_INSTRUCTIONS)
        if m.slug == OTHER_MODEL
        else m
        for m in catalog.bundled_models()
    )
    monkeypatch.setattr(catalog, "_bundled", lambda: entries)
    monkeypatch.setattr(
        catalog, "_bundled_one", lambda slug: next((m for m in entries if m.slug == slug), None)
    )
    first, _ = catalog.find_model_info("gpt-5.1-codex")
    other, _ = catalog.find_model_info(OTHER_MODEL)
    assert first.base_instructions != other.base_instructions == OTHER_INSTRUCTIONS


async def _recorded_thread(emulator: ResponsesEmulator, repo: Path) -> tuple[str, str]:
    async with open_session(config_for(emulator, repo, model="gpt-5.1-codex")) as session:
        await run(session, "hello")
        return session.thread_id, session.settings.base_instructions


async def test_resume_with_a_model_whose_instructions_differ_keeps_the_stored_ones(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    thread_id, original = await _recorded_thread(emulator, repo)
    async with resume_session(config_for(emulator, repo, model=OTHER_MODEL), thread_id) as again:
        await run(again, "again")
    resumed = bodies(emulator)[-1]
    assert resumed["model"] == OTHER_MODEL
    assert resumed["instructions"] == original != OTHER_INSTRUCTIONS


async def test_auto_compaction_keeps_the_stored_instructions(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    thread_id, original = await _recorded_thread(emulator, repo)
    config = config_for(emulator, repo, model=OTHER_MODEL, model_auto_compact_token_limit=200)
    async with resume_session(config, thread_id) as resumed:
        events = await run(resumed, "run `echo compact-me`")
    assert any(isinstance(e, ContextCompacted) and e.automatic for e in events)
    after_resume = bodies(emulator)[1:]
    # the sample, the summary request and the follow-up after it
    assert len(after_resume) == 3
    assert [b["instructions"] for b in after_resume] == [original] * 3


async def test_fork_with_a_config_override_uses_the_override(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    thread_id, original = await _recorded_thread(emulator, repo)
    override = config_for(emulator, repo, base_instructions="Forked with new instructions.")
    async with fork_session(override, thread_id) as forked:
        await run(forked, "in the fork")
        assert forked.recorder is not None
        fork_path = forked.recorder.path
    assert bodies(emulator)[-1]["instructions"] == "Forked with new instructions."
    assert load_rollout(fork_path).meta.forked_from_id == thread_id
    # the source's own instructions were the stored ones, not the override
    assert bodies(emulator)[0]["instructions"] == original


def _hosted_search(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in body["tools"] if t.get("type") == "web_search"]


async def test_web_search_mode_follows_a_sandbox_change_between_turns(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    async with open_session(config_for(emulator, repo, sandbox_mode="read-only")) as session:
        await run(session, "first")
        session.update_settings(SettingsChange(sandbox_mode="danger-full-access"))
        await run(session, "second")
        session.update_settings(SettingsChange(sandbox_mode="read-only"))
        await run(session, "third")
    first, second, third = bodies(emulator)
    assert _hosted_search(first) == [{"type": "web_search", "external_web_access": False}]
    assert _hosted_search(second) == [{"type": "web_search", "external_web_access": True}]
    assert _hosted_search(third) == [{"type": "web_search", "external_web_access": False}]
