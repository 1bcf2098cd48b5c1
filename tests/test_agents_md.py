"""AGENTS.md: which files are read (home, then repository root down to the working directory,
overrides and fallback names), within the byte limit, injected as the reference injects them
(tests/reference/agents_md_injection.json) and kept unchanged when the session is resumed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_engine.core.instructions.agents_md import (
    agents_md_instructions,
    project_doc_paths,
    read_project_docs,
)
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli

CAPTURE = json.loads((Path(__file__).parent / "reference/agents_md_injection.json").read_text())


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """The layout the reference capture was made with: ``(codex_home, cwd)``."""
    home, repo = tmp_path / "home", tmp_path / "repo"
    mid = repo / "mid"
    cwd = mid / "leaf"
    home.mkdir()
    cwd.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (home / "AGENTS.md").write_text("HOME DOC\n")
    (repo / "AGENTS.md").write_text("ROOT DOC\n")
    (mid / "AGENTS.md").write_text("MID DOC\n")
    (mid / "AGENTS.override.md").write_text("MID OVERRIDE\n")
    (cwd / "AGENTS.md").write_text("LEAF DOC\n")
    (tmp_path / "AGENTS.md").write_text("ABOVE THE REPOSITORY\n")  # never read
    return home, cwd


def test_files_from_the_repository_root_down_with_overrides_taking_precedence(
    layout: tuple[Path, Path],
) -> None:
    _, cwd = layout
    repo = cwd.parent.parent
    assert project_doc_paths(cwd) == [
        repo / "AGENTS.md",
        repo / "mid/AGENTS.override.md",
        cwd / "AGENTS.md",
    ]


def test_fallback_names_are_tried_after_agents_md(tmp_path: Path) -> None:
    (tmp_path / "CLAUDE.md").write_text("fallback\n")
    assert project_doc_paths(tmp_path) == []
    assert project_doc_paths(tmp_path, ["", "CLAUDE.md"]) == [tmp_path / "CLAUDE.md"]
    (tmp_path / "AGENTS.md").write_text("primary\n")
    assert project_doc_paths(tmp_path, ["CLAUDE.md"]) == [tmp_path / "AGENTS.md"]


def test_outside_a_repository_only_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("parent\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/AGENTS.md").write_text("here\n")
    assert read_project_docs(tmp_path / "sub", 1024) == "here\n"


def test_the_byte_limit_cuts_the_file_that_crosses_it_and_zero_disables(
    layout: tuple[Path, Path],
) -> None:
    _, cwd = layout
    assert read_project_docs(cwd, 1000) == "ROOT DOC\n\n\nMID OVERRIDE\n\n\nLEAF DOC\n"
    assert read_project_docs(cwd, 12) == "ROOT DOC\n\n\nMID"  # 9 + 3 bytes
    assert read_project_docs(cwd, 9) == "ROOT DOC\n"
    assert read_project_docs(cwd, 0) is None
    home = cwd / "nohome"
    assert agents_md_instructions(home, cwd, max_bytes=0) is None


def _first_user_parts(body: dict[str, Any]) -> list[str]:
    (first, *_) = [i for i in body["input"] if i.get("type") == "message" and i["role"] == "user"]
    return [part["text"] for part in first["content"]]


async def _exec(
    emulator: ResponsesEmulator, home: Path, cwd: Path, *args: str
) -> list[dict[str, Any]]:
    emulator.enqueue(Reply.text("ok"))
    result = await run_cli(
        "exec", "--json", *emulator_flags(emulator.base_url), *args, home=home, cwd=cwd
    )
    assert result.code == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_agents_md_reaches_the_model_as_the_reference_sends_it_and_survives_resume_and_fork(
    emulator: ResponsesEmulator, layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd = layout
    monkeypatch.setenv("CODEX_HOME", str(home))
    events = await _exec(emulator, home, cwd, "first")
    (request,) = emulator.requests_of("http")
    parts = _first_user_parts(request.body)
    expected = CAPTURE["first_user_message_parts"][0].replace("<CWD>", str(cwd.resolve()))
    assert parts[0] == expected
    assert parts[1].startswith(CAPTURE["first_user_message_parts"][1])
    assert request.body["input"][-1]["content"][0]["text"] == "first"

    # Changed files do not change what a resumed session already told the model.
    (cwd / "AGENTS.md").write_text("CHANGED\n")
    thread_id = next(e["thread_id"] for e in events if e["type"] == "thread.started")
    await _exec(emulator, home, cwd, "resume", thread_id, "second")
    resumed = emulator.requests_of("http")[-1].body
    assert _first_user_parts(resumed)[0] == expected
    agents = [i for i in resumed["input"] if "AGENTS.md instructions" in json.dumps(i)]
    assert len(agents) == 1, "injected once, not again on resume"
    await _exec(emulator, home, cwd, "fork", thread_id, "third")
    forked = emulator.requests_of("http")[-1].body
    assert _first_user_parts(forked)[0] == expected
    assert forked["input"][-1]["content"][0]["text"] == "third"


async def test_without_any_agents_md_no_instructions_are_injected(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    work = tmp_path / "w"
    work.mkdir()
    await _exec(emulator, codex_home, work, "--skip-git-repo-check", "hi")
    (request,) = emulator.requests_of("http")
    parts = _first_user_parts(request.body)
    assert parts[0].startswith("<environment_context>")


async def test_project_doc_keys_from_config_limit_and_extend_what_is_read(
    emulator: ResponsesEmulator, layout: tuple[Path, Path]
) -> None:
    home, cwd = layout
    (home / "AGENTS.md").unlink()
    (cwd / "AGENTS.md").unlink()
    (cwd / "TEAM.md").write_text("TEAM DOC\n")
    flags = ["-c", 'project_doc_fallback_filenames=["TEAM.md"]']
    await _exec(emulator, home, cwd, *flags, "hi")
    parts = _first_user_parts(emulator.requests_of("http")[-1].body)
    assert "ROOT DOC\n\n\nMID OVERRIDE\n\n\nTEAM DOC\n\n</INSTRUCTIONS>" in parts[0]
    await _exec(emulator, home, cwd, *flags, "-c", "project_doc_max_bytes=9", "hi")
    parts = _first_user_parts(emulator.requests_of("http")[-1].body)
    assert parts[0].endswith("<INSTRUCTIONS>\nROOT DOC\n\n</INSTRUCTIONS>")
