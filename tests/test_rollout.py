"""Rollout files: recording while a session runs, reading back, resume, fork, lookup."""

from __future__ import annotations

import json
import re
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from codex_engine.core.compaction import SUMMARY_OPEN_TAG
from codex_engine.core.rollout import (
    RolloutError,
    RolloutRecorder,
    SessionMeta,
    find_rollout,
    fork_rollout,
    latest_rollout,
    load_rollout,
)
from codex_engine.protocol.items import (
    ContentPart,
    FunctionCall,
    FunctionCallOutput,
    Message,
    item_to_json,
    user_message,
)

THREAD = "0190a5c3-8f2e-7abc-9def-0123456789ab"


def meta(thread_id: str = THREAD, cwd: str = "/work/project", **fields: Any) -> SessionMeta:
    return SessionMeta(
        id=thread_id,
        cwd=cwd,
        originator="codex_engine",
        cli_version="0.1.0",
        source="exec",
        model_provider="openai",
        base_instructions="You are a careful coding agent.",
        git={"commit_hash": "abc123", "branch": "main"},
        **fields,
    )


def assistant(text: str) -> Message:
    return Message(role="assistant", content=[ContentPart(type="output_text", text=text)])


def env_context() -> Message:
    return user_message("<environment_context>\n  <cwd>/work</cwd>\n</environment_context>")


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def record_turn(recorder: RolloutRecorder, number: int) -> None:
    recorder.record("turn_context", {"turn_id": f"t{number}", "cwd": "/work/project"})
    recorder.record("event_msg", {"type": "task_started", "turn_id": f"t{number}"})
    recorder.record_items([user_message(f"question {number}"), assistant(f"answer {number}")])
    recorder.record("event_msg", {"type": "task_complete", "turn_id": f"t{number}"})
    await recorder.flush()


async def test_new_rollout_starts_with_session_meta_in_dated_path(codex_home: Path) -> None:
    when = datetime(2025, 3, 4, 5, 6, 7).astimezone()
    recorder = await RolloutRecorder.create(codex_home, meta(), when=when)
    await recorder.close()

    expected = codex_home / "sessions/2025/03/04" / f"rollout-2025-03-04T05-06-07-{THREAD}.jsonl"
    assert recorder.path == expected
    (record,) = read_records(expected)
    assert record["type"] == "session_meta"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    payload = record["payload"]
    assert payload["id"] == THREAD
    assert payload["cwd"] == "/work/project"
    assert payload["originator"] == "codex_engine"
    assert payload["cli_version"] == "0.1.0"
    assert payload["source"] == "exec"
    assert payload["model_provider"] == "openai"
    assert payload["base_instructions"] == {"text": "You are a careful coding agent."}
    assert payload["git"] == {"commit_hash": "abc123", "branch": "main"}
    assert "forked_from_id" not in payload


async def test_rollout_file_is_private_to_the_user(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.close()
    assert stat.S_IMODE(recorder.path.stat().st_mode) == 0o600


async def test_lines_reach_the_file_while_the_session_is_open(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    recorder.record_items([user_message("hi")])
    await recorder.flush()
    assert [r["type"] for r in read_records(recorder.path)] == ["session_meta", "response_item"]
    await recorder.append("event_msg", {"type": "agent_message", "message": "hello"})
    assert read_records(recorder.path)[-1]["payload"] == {
        "type": "agent_message",
        "message": "hello",
    }
    await recorder.close()


async def test_history_turn_contexts_and_events_are_read_back(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    call = FunctionCall(name="shell", arguments='{"command":["ls"]}', call_id="c1")
    output = FunctionCallOutput(call_id="c1", output="README\n")
    recorder.record_items([env_context()])
    await record_turn(recorder, 1)
    recorder.record_items([call, output])
    await recorder.close()

    contents = load_rollout(recorder.path)

    assert contents.meta == meta(timestamp=contents.meta.timestamp)
    assert [item_to_json(i) for i in contents.items] == [
        item_to_json(i)
        for i in [env_context(), user_message("question 1"), assistant("answer 1"), call, output]
    ]
    assert contents.latest_turn_context == {"turn_id": "t1", "cwd": "/work/project"}
    assert [e["type"] for e in contents.events] == ["task_started", "task_complete"]
    assert contents.warnings == []


async def test_compacted_line_replaces_the_history_before_it(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await record_turn(recorder, 1)
    replacement = [user_message("question 1"), user_message(f"{SUMMARY_OPEN_TAG}\nsummary")]
    recorder.record(
        "compacted",
        {"message": "summary", "replacement_history": [item_to_json(i) for i in replacement]},
    )
    recorder.record_items([user_message("question 2")])
    await recorder.close()

    items = load_rollout(recorder.path).items

    assert [item_to_json(i) for i in items] == [
        item_to_json(i) for i in [*replacement, user_message("question 2")]
    ]


async def test_older_compacted_line_without_replacement_keeps_user_messages_and_summary(
    codex_home: Path,
) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    recorder.record_items([env_context()])
    await record_turn(recorder, 1)
    recorder.record("compacted", {"message": "we listed files"})
    await recorder.close()

    items = load_rollout(recorder.path).items

    assert next(i.text() for i in items if isinstance(i, Message)) == "question 1"
    last = items[-1]
    assert isinstance(last, Message) and last.role == "user"
    assert last.text().startswith(SUMMARY_OPEN_TAG) and "we listed files" in last.text()
    assert len(items) == 2


async def test_torn_last_line_is_skipped_with_a_warning(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await record_turn(recorder, 1)
    await recorder.close()
    with recorder.path.open("ab") as f:
        f.write(b'{"timestamp":"2025-01-01T00:00:00.000Z","type":"response_item","payl')

    contents = load_rollout(recorder.path)

    assert len(contents.items) == 2
    (warning,) = contents.warnings
    assert str(recorder.path) in warning and "incomplete last line" in warning


async def test_broken_line_in_the_middle_is_an_error_naming_file_and_line(
    codex_home: Path,
) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await record_turn(recorder, 1)
    await recorder.close()
    lines = recorder.path.read_text().splitlines()
    lines[2] = lines[2][:20]
    recorder.path.write_text("\n".join(lines) + "\n")

    with pytest.raises(RolloutError, match=rf"{re.escape(str(recorder.path))}:3: "):
        load_rollout(recorder.path)


async def test_file_not_starting_with_session_meta_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_text(json.dumps({"timestamp": "x", "type": "event_msg", "payload": {}}) + "\n")
    with pytest.raises(RolloutError, match="session_meta"):
        load_rollout(path)


async def test_resume_appends_to_the_same_file_without_a_second_session_meta(
    codex_home: Path,
) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await record_turn(recorder, 1)
    await recorder.close()

    resumed = await RolloutRecorder.resume(recorder.path)
    assert resumed.thread_id == THREAD
    await record_turn(resumed, 2)
    await resumed.close()

    kinds = [r["type"] for r in read_records(recorder.path)]
    assert kinds.count("session_meta") == 1
    texts = [i.text() for i in load_rollout(recorder.path).items if isinstance(i, Message)]
    assert texts == ["question 1", "answer 1", "question 2", "answer 2"]


async def test_resume_after_a_crash_drops_the_torn_line_and_keeps_appending(
    codex_home: Path,
) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await record_turn(recorder, 1)
    await recorder.close()
    with recorder.path.open("ab") as f:
        f.write(b'{"timestamp":"2025-01-01T00:00:00.000Z","type":"resp')

    resumed = await RolloutRecorder.resume(recorder.path)
    await record_turn(resumed, 2)
    await resumed.close()

    contents = load_rollout(recorder.path)
    assert contents.warnings == []
    assert len(contents.items) == 4


async def test_resume_completes_a_whole_last_line_missing_its_newline(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.close()
    record = {"timestamp": "t", "type": "response_item", "payload": item_to_json(assistant("a"))}
    with recorder.path.open("ab") as f:
        f.write(json.dumps(record).encode())

    resumed = await RolloutRecorder.resume(recorder.path)
    await resumed.append("response_item", item_to_json(assistant("b")))
    await resumed.close()

    texts = [i.text() for i in load_rollout(recorder.path).items if isinstance(i, Message)]
    assert texts == ["a", "b"]


async def test_recording_after_close_is_refused(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.close()
    await recorder.close()
    with pytest.raises(RolloutError, match="closed"):
        recorder.record("event_msg", {"type": "x"})
    with pytest.raises(ValueError, match="session_meta"):
        recorder.record("session_meta", {})


async def test_find_rollout_by_thread_id(codex_home: Path) -> None:
    other = "0190a5c3-8f2e-7abc-9def-000000000001"
    first = await RolloutRecorder.create(codex_home, meta())
    second = await RolloutRecorder.create(codex_home, meta(other))
    await first.close()
    await second.close()

    assert find_rollout(codex_home, THREAD) == first.path
    assert find_rollout(codex_home, other) == second.path
    assert find_rollout(codex_home, "0190a5c3-0000-7000-8000-000000000000") is None
    with pytest.raises(ValueError):
        find_rollout(codex_home, "../escape")


async def test_latest_rollout_is_the_newest_overall_or_in_a_directory(
    codex_home: Path, tmp_path: Path
) -> None:
    project_a = tmp_path / "a"
    project_b = tmp_path / "b"
    project_a.mkdir()
    project_b.mkdir()
    starts = [
        ("0190a5c3-8f2e-7abc-9def-00000000000a", project_a, datetime(2024, 12, 31, 23, 59, 59)),
        ("0190a5c3-8f2e-7abc-9def-00000000000b", project_b, datetime(2025, 1, 1, 0, 0, 1)),
        ("0190a5c3-8f2e-7abc-9def-00000000000c", project_a, datetime(2025, 1, 1, 0, 0, 0)),
    ]
    paths = {}
    for thread_id, cwd, when in starts:
        recorder = await RolloutRecorder.create(
            codex_home, meta(thread_id, cwd=str(cwd)), when=when.astimezone()
        )
        await recorder.close()
        paths[thread_id] = recorder.path

    assert latest_rollout(codex_home) == paths["0190a5c3-8f2e-7abc-9def-00000000000b"]
    assert latest_rollout(codex_home, project_a) == paths["0190a5c3-8f2e-7abc-9def-00000000000c"]
    assert latest_rollout(codex_home, tmp_path / "elsewhere") is None
    assert latest_rollout(tmp_path / "empty-home") is None


async def make_three_turns(codex_home: Path) -> Path:
    recorder = await RolloutRecorder.create(codex_home, meta())
    recorder.record_items([env_context()])
    for number in (1, 2, 3):
        await record_turn(recorder, number)
    await recorder.close()
    return recorder.path


async def test_fork_keeps_the_first_turns_and_names_its_source(codex_home: Path) -> None:
    source = await make_three_turns(codex_home)
    new_id = "0190a5c3-8f2e-7abc-9def-0000000000f0"

    path = fork_rollout(source, codex_home, new_thread_id=new_id, cut_after_user_turns=1)

    assert path == find_rollout(codex_home, new_id)
    contents = load_rollout(path)
    assert contents.meta.id == new_id
    assert contents.meta.forked_from_id == THREAD
    assert contents.meta.base_instructions == "You are a careful coding agent."
    assert contents.meta.git == {"commit_hash": "abc123", "branch": "main"}
    texts = [i.text() for i in contents.items if isinstance(i, Message)]
    assert texts == [env_context().text(), "question 1", "answer 1"]
    # The cut turn's own start lines are not carried over.
    assert [c["turn_id"] for c in contents.turn_contexts] == ["t1"]
    assert [e["type"] for e in contents.events] == ["task_started", "task_complete"]
    assert [r["type"] for r in read_records(path)].count("session_meta") == 1
    # The source is untouched.
    assert len(load_rollout(source).items) == 7


@pytest.mark.parametrize(
    ("cut", "expected_user_texts"),
    [
        (0, []),
        (2, ["question 1", "question 2"]),
        (3, ["question 1", "question 2", "question 3"]),
        (10, ["question 1", "question 2", "question 3"]),
        (None, ["question 1", "question 2", "question 3"]),
    ],
)
async def test_fork_cut_points(
    codex_home: Path, cut: int | None, expected_user_texts: list[str]
) -> None:
    source = await make_three_turns(codex_home)
    path = fork_rollout(
        source,
        codex_home,
        new_thread_id="0190a5c3-0000-7000-8000-0000000000f1",
        cut_after_user_turns=cut,
    )
    items = load_rollout(path).items
    users = [i.text() for i in items if isinstance(i, Message) and i.role == "user"]
    assert users == [env_context().text(), *expected_user_texts]


async def test_forked_rollout_can_be_resumed_and_extended(codex_home: Path) -> None:
    source = await make_three_turns(codex_home)
    new_id = "0190a5c3-8f2e-7abc-9def-0000000000f2"
    path = fork_rollout(source, codex_home, new_thread_id=new_id, cut_after_user_turns=1)

    recorder = await RolloutRecorder.resume(path)
    assert recorder.thread_id == new_id
    await record_turn(recorder, 9)
    await recorder.close()

    texts = [i.text() for i in load_rollout(path).items if isinstance(i, Message)]
    assert texts[1:] == ["question 1", "answer 1", "question 9", "answer 9"]
