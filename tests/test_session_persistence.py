"""Rollout, resume, fork, compaction, git context and web search through the real entry points."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config.loader import load_config
from codex_engine.core.events import ContextCompacted, TurnCompleted, TurnEvent
from codex_engine.core.launch import fork_session, open_session, resume_session
from codex_engine.core.rollout import load_rollout
from codex_engine.core.session import Session
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.items import item_to_json
from tests.conftest import TEST_MODEL, run_cli


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


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
    git(path, "remote", "add", "origin", "https://example.com/demo.git")
    return path.resolve()


def config_for(emulator: ResponsesEmulator, cwd: Path, **extra: Any) -> Any:
    overrides: list[tuple[list[str], Any]] = [
        (["model"], TEST_MODEL),
        (["model_provider"], "emulator"),
        (["model_providers", "emulator", "base_url"], emulator.base_url),
        (["sandbox_mode"], "danger-full-access"),
        (["approval_policy"], "never"),
    ]
    overrides += [([key], value) for key, value in extra.items()]
    return load_config(overrides=overrides, cwd=cwd)


async def run(session: Session, text: str) -> list[TurnEvent]:
    return [event async for event in session.run_turn(text)]


def bodies(emulator: ResponsesEmulator) -> list[dict[str, Any]]:
    return [r.body for r in emulator.requests_of("http")]


async def test_turns_are_recorded_and_a_resume_continues_the_same_thread(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    config = config_for(emulator, repo)
    async with open_session(config) as session:
        await run(session, "first question")
        thread_id = session.thread_id
        assert session.recorder is not None
        path = session.recorder.path
    contents = load_rollout(path)
    assert contents.meta.id == thread_id
    assert contents.meta.base_instructions
    assert contents.meta.git is not None and contents.meta.git["branch"]
    async with resume_session(config, thread_id) as resumed:
        assert resumed.thread_id == thread_id
        await run(resumed, "second question")
        assert resumed.recorder is not None and resumed.recorder.path == path
    last = bodies(emulator)[-1]
    text = json.dumps(last["input"])
    assert "first question" in text and "second question" in text
    # the prefix is not repeated on resume
    assert text.count("<environment_context>") == 1


async def test_base_instructions_survive_resume_with_another_model_fork_and_compaction(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    config = config_for(emulator, repo)
    async with open_session(config) as session:
        await run(session, "hello")
        original = session.settings.base_instructions
        thread_id = session.thread_id
    other_model = config_for(emulator, repo, model="some-future-model")
    async with resume_session(other_model, thread_id) as resumed:
        await run(resumed, "again")
        await resumed.compact()
        await run(resumed, "after compaction")
    async with fork_session(config, thread_id, cut_after_user_turns=1) as forked:
        assert forked.thread_id != thread_id
        await run(forked, "in the fork")
        assert forked.recorder is not None
        fork_meta = load_rollout(forked.recorder.path).meta
    assert fork_meta.forked_from_id == thread_id
    assert {b["instructions"] for b in bodies(emulator)} == {original}
    assert bodies(emulator)[1]["model"] == "some-future-model"


async def test_an_explicit_override_replaces_stored_instructions_on_resume(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    async with open_session(config_for(emulator, repo)) as session:
        await run(session, "hello")
        thread_id = session.thread_id
    override = config_for(emulator, repo, base_instructions="Brand new instructions.")
    async with resume_session(override, thread_id) as resumed:
        await run(resumed, "again")
    assert bodies(emulator)[-1]["instructions"] == "Brand new instructions."


async def test_fork_keeps_history_up_to_the_cut(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    config = config_for(emulator, repo)
    async with open_session(config) as session:
        await run(session, "turn one")
        await run(session, "turn two")
        thread_id = session.thread_id
    async with fork_session(config, thread_id, cut_after_user_turns=1) as forked:
        await run(forked, "fork turn")
    text = json.dumps(bodies(emulator)[-1]["input"])
    assert "turn one" in text and "fork turn" in text and "turn two" not in text


async def test_auto_compaction_triggers_at_the_limit_and_survives_resume(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    config = config_for(emulator, repo, model_auto_compact_token_limit=200)
    async with open_session(config) as session:
        events = await run(session, "run `echo compact-me`")
        thread_id = session.thread_id
        compacted_history = list(session.history)
    assert any(isinstance(e, ContextCompacted) and e.automatic for e in events)
    assert isinstance(events[-1], TurnCompleted)
    requests = bodies(emulator)
    # sample, summary request, follow-up with the tool output folded into the summary
    assert len(requests) == 3
    assert "conversation above is about to be replaced" in json.dumps(requests[1]["input"][-1])
    assert "<conversation_summary>" in json.dumps(requests[2]["input"])
    async with resume_session(config, thread_id) as resumed:
        assert [item_to_json(i) for i in resumed.history] == [
            item_to_json(i) for i in compacted_history
        ]


async def test_resume_skips_a_torn_last_line_with_a_warning(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    config = config_for(emulator, repo)
    async with open_session(config) as session:
        await run(session, "before the crash")
        assert session.recorder is not None
        path = session.recorder.path
        thread_id = session.thread_id
    with path.open("a") as handle:
        handle.write('{"timestamp": "2026-11-25T00:00:00.000Z", "type": "response_it')
    async with resume_session(config, thread_id) as resumed:
        assert any(
            "torn" in w or "incomplete" in w or "skipped" in w for w in resumed.load_warnings
        )
        events = await run(resumed, "after the crash")
    assert isinstance(events[-1], TurnCompleted)
    assert "before the crash" in json.dumps(bodies(emulator)[-1]["input"])
    # every line of the file parses again: the torn tail was cut before appending
    for line in path.read_text().splitlines():
        json.loads(line)


async def test_git_context_reaches_the_prompt_the_header_and_session_meta(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    (repo / "dirty.txt").write_text("uncommitted")
    async with open_session(config_for(emulator, repo)) as session:
        await run(session, "hello")
    request = emulator.requests_of("http")[0]
    metadata = json.loads(request.headers["x-codex-turn-metadata"])
    workspace = metadata["workspaces"][str(repo)]
    assert workspace["associated_remote_urls"] == {"origin": "https://example.com/demo.git"}
    assert workspace["has_changes"] is True
    assert len(workspace["latest_git_commit_hash"]) == 40
    prompt_text = json.dumps(request.body["input"])
    assert "<git_context>" in prompt_text and "example.com/demo.git" in prompt_text


async def test_no_git_context_outside_a_repository(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    async with open_session(config_for(emulator, plain)) as session:
        await run(session, "hello")
    request = emulator.requests_of("http")[0]
    assert "workspaces" not in json.loads(request.headers["x-codex-turn-metadata"])
    assert "<git_context>" not in json.dumps(request.body["input"])


@pytest.mark.parametrize(
    ("web_search", "sandbox", "expected"),
    [
        (None, "danger-full-access", {"type": "web_search", "external_web_access": True}),
        (None, "read-only", {"type": "web_search", "external_web_access": False}),
        ("cached", "danger-full-access", {"type": "web_search", "external_web_access": False}),
        ("live", "read-only", {"type": "web_search", "external_web_access": True}),
        ("disabled", "danger-full-access", None),
    ],
)
async def test_web_search_tool_follows_mode_and_sandbox(
    emulator: ResponsesEmulator,
    codex_home: Path,
    tmp_path: Path,
    web_search: str | None,
    sandbox: str,
    expected: dict[str, Any] | None,
) -> None:
    extra: dict[str, Any] = {"sandbox_mode": sandbox}
    if web_search is not None:
        extra["web_search"] = web_search
    async with open_session(config_for(emulator, tmp_path, **extra)) as session:
        await run(session, "hello")
    tools = emulator.requests_of("http")[0].body["tools"]
    hosted = [t for t in tools if t.get("type") == "web_search"]
    assert hosted == ([expected] if expected is not None else [])


async def codex(*args: str, home: Path, cwd: Path) -> tuple[int, str, str]:
    run = await run_cli(*args, home=home, cwd=cwd)
    return run.code, run.stdout, run.stderr


async def test_exec_resume_last_and_fork_from_the_command_line(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    flags = ["-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator", "-c",
             f"model_providers.emulator.base_url={emulator.base_url}"]  # fmt: skip
    code, out, _ = await codex("exec", "--json", *flags, "remember the word kiwi",
                               home=codex_home, cwd=repo)  # fmt: skip
    assert code == 0
    thread_id = json.loads(out.splitlines()[0])["thread_id"]
    code, out, err = await codex("exec", "--json", *flags, "resume", "--last", "what word?",
                                 home=codex_home, cwd=repo)  # fmt: skip
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["thread_id"] == thread_id
    assert "kiwi" in json.dumps(bodies(emulator)[-1]["input"])
    code, out, err = await codex("exec", "--json", *flags, "fork", thread_id, "forked",
                                 home=codex_home, cwd=repo)  # fmt: skip
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["thread_id"] != thread_id
    code, _, err = await codex("exec", *flags, "resume", "no-such-id", "x",
                               home=codex_home, cwd=repo)  # fmt: skip
    assert code == 1 and "no recorded session" in err and "Traceback" not in err
