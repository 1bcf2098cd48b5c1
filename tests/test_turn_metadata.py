"""``x-codex-turn-metadata`` is built per turn (a commit or an edit shows up in the next turn),
the startup preconnect's handshake carries the workspaces too, and a slow git is bounded."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config.loader import load_config
from codex_engine.core.events import TurnCompleted, TurnEvent
from codex_engine.core.git_info import GitInfo
from codex_engine.core.launch import open_session
from codex_engine.core.session import Session
from codex_engine.core.turn_metadata import TURN_METADATA_TIMEOUT_S
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import TEST_MODEL


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "a.txt").write_text("a")
    git(path, "add", ".")
    git(path, "commit", "-qm", "first")
    return path.resolve()


def config_for(emulator: ResponsesEmulator, cwd: Path, *, websockets: bool = False) -> Any:
    overrides: list[tuple[list[str], Any]] = [
        (["model"], TEST_MODEL),
        (["model_provider"], "emulator"),
        (["model_providers", "emulator", "base_url"], emulator.base_url),
        (["model_providers", "emulator", "supports_websockets"], websockets),
        (["sandbox_mode"], "danger-full-access"),
        (["approval_policy"], "never"),
        (["features", "responses_websockets"], websockets),
    ]
    return load_config(overrides=overrides, cwd=cwd)


async def run(session: Session, text: str) -> list[TurnEvent]:
    return [event async for event in session.run_turn(text)]


def workspace(headers: dict[str, str], repo: Path) -> dict[str, Any]:
    metadata = json.loads(headers["x-codex-turn-metadata"])
    entry: dict[str, Any] = metadata["workspaces"][str(repo)]
    return entry


async def test_a_commit_between_turns_shows_in_the_next_turns_metadata(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    first_head = git(repo, "rev-parse", "HEAD")
    async with open_session(config_for(emulator, repo)) as session:
        await run(session, "one")
        (repo / "b.txt").write_text("b")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "second")
        await run(session, "two")
    second_head = git(repo, "rev-parse", "HEAD")
    first, second = emulator.requests_of("http")
    assert workspace(first.headers, repo)["latest_git_commit_hash"] == first_head
    assert workspace(second.headers, repo)["latest_git_commit_hash"] == second_head != first_head


async def test_an_edit_between_turns_turns_has_changes_on(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    async with open_session(config_for(emulator, repo)) as session:
        await run(session, "one")
        (repo / "a.txt").write_text("edited")
        await run(session, "two")
    first, second = emulator.requests_of("http")
    assert workspace(first.headers, repo)["has_changes"] is False
    assert workspace(second.headers, repo)["has_changes"] is True
    turn_ids = [json.loads(r.headers["x-codex-turn-metadata"])["turn_id"] for r in (first, second)]
    assert turn_ids[0] != turn_ids[1]


async def test_the_preconnect_handshake_carries_the_workspaces(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    async with open_session(config_for(emulator, repo, websockets=True)) as session:
        handshake = await emulator.wait_for_request("ws_handshake")
        entry = workspace(handshake.headers, repo)
        assert entry["latest_git_commit_hash"] == git(repo, "rev-parse", "HEAD")
        assert entry["has_changes"] is False
        metadata = json.loads(handshake.headers["x-codex-turn-metadata"])
        assert metadata["sandbox"] == "danger-full-access"
        assert "turn_id" not in metadata  # no turn yet
        events = await run(session, "hi")
    assert isinstance(events[-1], TurnCompleted)
    # the turn adopted the warmed socket: one handshake in all
    assert len(emulator.requests_of("ws_handshake")) == 1


async def test_a_slow_git_is_bounded_and_the_turn_still_goes_out(
    emulator: ResponsesEmulator,
    codex_home: Path,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "slowbin"
    bin_dir.mkdir()
    slow_git = bin_dir / "git"
    slow_git.write_text("#!/bin/sh\nexec sleep 30\n")
    slow_git.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    async with open_session(config_for(emulator, repo)) as session:
        started = time.monotonic()
        events = await run(session, "hi")
        elapsed = time.monotonic() - started
    assert isinstance(events[-1], TurnCompleted)
    (request,) = emulator.requests_of("http")
    metadata = json.loads(request.headers["x-codex-turn-metadata"])
    assert "workspaces" not in metadata
    assert metadata["sandbox"] == "danger-full-access"
    # one bound for the turn's git (plus the turn itself), far from the wrapper's 30 s
    assert elapsed < TURN_METADATA_TIMEOUT_S + 5


@pytest.fixture
def git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git first on PATH that logs each run to the returned file, then does the real work."""
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    bin_dir, log = tmp_path / "countbin", tmp_path / "git.log"
    bin_dir.mkdir()
    counting_git = bin_dir / "git"
    counting_git.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real_git} "$@"\n')
    counting_git.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def git_runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


async def test_the_first_turn_reuses_the_git_context_its_session_just_collected(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, git_log: Path
) -> None:
    async with open_session(config_for(emulator, repo)) as session:
        runs_at_start = git_runs(git_log)
        await run(session, "one")
        runs_after_first = git_runs(git_log)
        await run(session, "two")
        runs_after_second = git_runs(git_log)
    assert runs_at_start > 0
    assert runs_after_first == runs_at_start  # the first turn ran no git of its own
    assert runs_after_second == 2 * runs_at_start  # a later turn asks git again
    first, second = emulator.requests_of("http")
    head = git(repo, "rev-parse", "HEAD")
    assert workspace(first.headers, repo)["latest_git_commit_hash"] == head
    assert workspace(second.headers, repo)["has_changes"] is False


async def test_a_session_given_its_git_context_runs_no_git_for_its_start(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, git_log: Path
) -> None:
    given = GitInfo(root=repo, commit_hash="f" * 40, branch="given", has_changes=True)

    async def collected() -> GitInfo:
        return given

    async with open_session(config_for(emulator, repo), git_info=collected()) as session:
        await run(session, "one")
    assert git_runs(git_log) == 0  # neither the start nor the first turn ran git
    (request,) = emulator.requests_of("http")
    assert workspace(request.headers, repo) == {
        "latest_git_commit_hash": "f" * 40,
        "has_changes": True,
    }
    assert "<branch>given</branch>" in json.dumps(request.body["input"])
