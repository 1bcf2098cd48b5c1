"""A session is assembled whole: its dependencies come in one frozen object, and its settings
change between turns only through a typed :class:`SettingsChange`."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from codex_engine.core.events import TurnStarted
from codex_engine.core.session import Session, SessionDeps
from codex_engine.core.settings import SessionSettings, SettingsChange
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import make_client
from tests.session_support import settings


def test_a_settings_change_names_only_session_settings() -> None:
    changeable = set(SettingsChange.__struct_fields__)
    assert changeable <= set(SessionSettings.__struct_fields__)


def test_a_settings_change_replaces_only_what_it_names(tmp_path: Path) -> None:
    before = settings(tmp_path, reasoning_effort="low")
    assert not SettingsChange()
    assert SettingsChange().apply(before) == before
    change = SettingsChange(sandbox_mode="read-only", cwd=tmp_path / "elsewhere")
    assert change
    after = change.apply(before)
    assert (after.sandbox_mode, after.cwd) == ("read-only", tmp_path / "elsewhere")
    assert after == msgspec.structs.replace(before, sandbox_mode="read-only", cwd=after.cwd)
    with pytest.raises(AttributeError, match="immutable"):
        change.cwd = tmp_path  # type: ignore[misc]


def test_the_settings_repr_leaves_out_the_command_environment(tmp_path: Path) -> None:
    with_env = settings(tmp_path, shell_env={"OPENAI_API_KEY": "sk-not-for-logs"})
    shown = repr(with_env)
    assert shown.startswith("SessionSettings(cwd=") and "sandbox_mode='danger-full-access'" in shown
    assert "sk-not-for-logs" not in shown and "shell_env" not in shown
    assert shown == repr(msgspec.structs.replace(with_env, shell_env=None))
    assert with_env != msgspec.structs.replace(with_env, shell_env=None)


async def test_settings_cannot_change_while_a_turn_runs(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        events = session.run_turn("hello")
        assert isinstance(await events.__anext__(), TurnStarted)
        with pytest.raises(RuntimeError, match="while a turn is running"):
            session.update_settings(SettingsChange(reasoning_effort="high"))
        async for _event in events:
            pass
        session.update_settings(SettingsChange(reasoning_effort="high"))
    assert session.settings.reasoning_effort == "high"


async def test_the_dependencies_come_whole_and_stay_as_given(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        deps = SessionDeps(client, load_warnings=("torn last line",))
        session = Session(settings(tmp_path), deps)
        assert session.client is client and session.thread_id == client.thread_id
        assert session.recorder is None and session.git_info is None
        assert session.load_warnings == ("torn last line",)
        with pytest.raises(AttributeError, match="immutable"):
            deps.recorder = None  # type: ignore[misc]
        with pytest.raises(AttributeError):
            session.recorder = None  # type: ignore[misc]
