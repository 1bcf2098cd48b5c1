"""The one rule every rollout reader follows for lines that are not records, as a table; and the
writer's resume and name append mending a torn tail by the same rule."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server.history import read_stored_thread
from codex_engine.core.rollout import (
    RolloutError,
    RolloutIndex,
    RolloutRecorder,
    SessionMeta,
    append_record,
    load_rollout,
    read_rollout,
)
from codex_engine.core.rollout.index import summarize
from codex_engine.core.rollout.reader import parse_rollout

THREAD = "0190a5c3-8f2e-7abc-9def-0123456789ab"
PATH = Path("/home/u/.codex/sessions/2025/01/01/rollout.jsonl")


def line(kind: str, payload: dict[str, Any]) -> bytes:
    record = {"timestamp": "2025-01-01T00:00:00.000Z", "type": kind, "payload": payload}
    return json.dumps(record).encode()


META = line("session_meta", {"id": THREAD, "cwd": "/w", "originator": "o", "cli_version": "1"})
USER = line(
    "response_item",
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
)
EVENT = line("event_msg", {"type": "task_started"})
UNKNOWN = line("future_kind", {"anything": 1})
TORN = b'{"timestamp":"2025-01-01T00:00:00.000Z","type":"response_it'


# (case, file bytes, kinds of the records after session_meta, warning or error naming the line)
OK_CASES = [
    (
        "whole file",
        META + b"\n" + USER + b"\n" + EVENT + b"\n",
        ["response_item", "event_msg"],
        None,
    ),
    ("no final newline", META + b"\n" + EVENT, ["event_msg"], None),
    ("blank lines anywhere", b"\n" + META + b"\n\n  \n" + EVENT + b"\n\n", ["event_msg"], None),
    ("torn last line", META + b"\n" + EVENT + b"\n" + TORN, ["event_msg"], ":3: skipped"),
    (
        "torn last line, newline and blanks after",
        META + b"\n" + TORN + b"\n\n \n",
        [],
        ":2: skipped",
    ),
    ("non-JSON last line", META + b"\n" + EVENT + b"\ngarbage\n", ["event_msg"], ":3: skipped"),
    ("JSON array as last line", META + b"\n[1, 2]\n", [], ":2: skipped"),
    ("last line without payload", META + b'\n{"type": "event_msg"}', [], ":2: skipped"),
    ("invalid UTF-8 last line", META + b"\n\xff\xfe\n", [], ":2: skipped"),
    ("unknown record type kept", META + b"\n" + UNKNOWN + b"\n", ["future_kind"], None),
    ("second session_meta kept", META + b"\n" + META + b"\n", ["session_meta"], None),
]

ERROR_CASES = [
    ("torn middle line", META + b"\n" + TORN + b"\n" + EVENT + b"\n", ":2: line is not a valid"),
    ("non-JSON middle line", META + b"\ngarbage\n" + EVENT + b"\n", ":2: line is not a valid"),
    ("JSON array in the middle", META + b"\n[1]\n" + EVENT, ":2: .*not a JSON object"),
    ("middle line without type", META + b'\n{"payload": {}}\n' + EVENT, ":2: .*missing `type`"),
    ("invalid UTF-8 middle line", META + b"\n\xff\n" + EVENT, ":2: line is not a valid"),
    ("empty file", b"", ": the first line is not a session_meta line"),
    ("only blank lines", b"\n \n\n", ": the first line is not a session_meta line"),
    ("only a torn line", TORN, ": the first line is not a session_meta line"),
    ("first line not session_meta", EVENT + b"\n" + META + b"\n", ": the first line is not"),
    ("session_meta without id", line("session_meta", {"cwd": "/w"}) + b"\n", ":1: .*no `id`"),
]


@pytest.mark.parametrize(
    ("data", "kinds", "warning"), [c[1:] for c in OK_CASES], ids=[c[0] for c in OK_CASES]
)
def test_readable_files(data: bytes, kinds: list[str], warning: str | None) -> None:
    rollout = parse_rollout(PATH, data)

    assert rollout.meta.id == THREAD
    assert [record.kind for record in rollout.records] == kinds
    if warning is None:
        assert rollout.warnings == []
    else:
        (only,) = rollout.warnings
        assert only.startswith(f"{PATH}{warning}") and "incomplete last line" in only


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_refused_files(data: bytes, error: str) -> None:
    with pytest.raises(RolloutError, match="^" + re.escape(str(PATH)) + error):
        parse_rollout(PATH, data)


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_every_reader_refuses_the_same_files(tmp_path: Path, data: bytes, error: str) -> None:
    path = tmp_path / f"rollout-2025-01-01T00-00-00-{THREAD}.jsonl"
    path.write_bytes(data)
    pattern = "^" + re.escape(str(path)) + error

    for read in (
        read_rollout,
        load_rollout,  # resume and fork
        lambda p: read_stored_thread(p, archived=False, with_turns=True),  # thread/read
    ):
        with pytest.raises(RolloutError, match=pattern):
            read(path)
    # thread/list leaves it out rather than failing the whole page.
    index = RolloutIndex(tmp_path)
    sessions = tmp_path / "sessions" / "2025" / "01" / "01"
    sessions.mkdir(parents=True)
    path.rename(sessions / path.name)
    (entry,) = index.entries(archived=False)
    assert index.summary(entry) is None


def test_consumers_ignore_unknown_record_types(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(b"\n".join([META, UNKNOWN, USER, UNKNOWN, EVENT]) + b"\n")

    contents = load_rollout(path)
    assert [item.type for item in contents.items] == ["message"]
    assert [w.split(": ", 1)[1] for w in contents.warnings] == [
        "ignored a line of unknown type 'future_kind'"
    ] * 2
    assert summarize(read_rollout(path)).preview == "hi"
    stored = read_stored_thread(path, archived=False, with_turns=True)
    assert [item.type for turn in stored.turns for item in turn.items] == ["userMessage"]


def test_reading_a_torn_thread_from_the_app_server_projection_skips_the_tail(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(META + b"\n" + USER + b"\n" + TORN)

    stored = read_stored_thread(path, archived=False, with_turns=True)

    assert stored.preview == "hi" and len(stored.turns) == 1


def meta() -> SessionMeta:
    return SessionMeta(id=THREAD, cwd="/w", originator="o", cli_version="1")


# Tails a crash (or a stray writer) may leave, each of which the reader skips as torn.
TORN_TAILS = [TORN, TORN + b"\n", b"[1, 2]\n", b'{"type": "event_msg"}', b"garbage\n\n"]


@pytest.mark.parametrize("tail", TORN_TAILS)
async def test_resume_cuts_what_the_reader_would_skip(codex_home: Path, tail: bytes) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.append("event_msg", {"type": "task_started"})
    await recorder.close()
    with recorder.path.open("ab") as f:
        f.write(tail)
    assert len(read_rollout(recorder.path).warnings) == 1

    resumed = await RolloutRecorder.resume(recorder.path)
    await resumed.append("event_msg", {"type": "task_complete"})
    await resumed.close()

    assert resumed.warnings and "incomplete last line" in resumed.warnings[0]
    again = read_rollout(recorder.path)
    assert again.warnings == []
    assert [r.payload["type"] for r in again.records] == ["task_started", "task_complete"]


@pytest.mark.parametrize("tail", TORN_TAILS)
async def test_naming_a_crashed_thread_mends_its_tail_first(codex_home: Path, tail: bytes) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.close()
    with recorder.path.open("ab") as f:
        f.write(tail)

    append_record(recorder.path, "event_msg", {"type": "thread_name_updated", "thread_name": "n"})

    rollout = read_rollout(recorder.path)
    assert rollout.warnings == []
    assert [r.payload for r in rollout.records] == [
        {"type": "thread_name_updated", "thread_name": "n"}
    ]


async def test_naming_a_thread_another_writer_holds_only_appends(codex_home: Path) -> None:
    recorder = await RolloutRecorder.create(codex_home, meta())
    await recorder.append("event_msg", {"type": "task_started"})

    append_record(recorder.path, "event_msg", {"type": "thread_name_updated", "thread_name": "n"})
    await recorder.append("event_msg", {"type": "task_complete"})
    await recorder.close()

    types = [r.payload["type"] for r in read_rollout(recorder.path).records]
    assert types == ["task_started", "thread_name_updated", "task_complete"]
