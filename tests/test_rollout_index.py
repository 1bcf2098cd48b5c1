"""The rollout index behind ``thread/list``: an unchanged CODEX_HOME is listed again without
opening a rollout file; a changed, added or deleted file is picked up (in-process and through
a running app-server)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import pytest

from codex_engine.app_server.history import list_page
from codex_engine.core.rollout import (
    NAME_EVENT,
    RolloutIndex,
    SessionMeta,
    append_record,
    archive_file,
    reader,
    rollout_path,
)
from codex_engine.core.rollout.records import encode_line
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.app_server import ThreadListParams
from codex_engine.protocol.items import item_to_json, user_message
from tests.test_app_server import RawClient

START = datetime(2025, 3, 1, 12, 0, 0).astimezone()


def thread_id(number: int) -> str:
    return f"0195a5c3-8f2e-7abc-9def-{number:012d}"


def write_session(home: Path, number: int, *, source: str = "appServer", cwd: str = "/w") -> Path:
    """A recorded thread started ``number`` minutes after START, with one user turn."""
    meta = SessionMeta(
        id=thread_id(number), cwd=cwd, originator="o", cli_version="1", source=source
    )
    path = rollout_path(home, meta.id, START + timedelta(minutes=number))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        encode_line("session_meta", meta.to_payload())
        + encode_line("turn_context", {"turn_id": "t1", "model": "m", "effort": "low"})
        + encode_line("response_item", item_to_json(user_message(f"question {number}")))
    )
    return path


class Opens:
    """Counts the rollout files the reader opens."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[Path] = []
        original = reader._open

        def counting(path: Path) -> BinaryIO:
            self.paths.append(path)
            return original(path)

        monkeypatch.setattr(reader, "_open", counting)

    def take(self) -> list[Path]:
        taken, self.paths = self.paths, []
        return taken


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Opens:
    return Opens(monkeypatch)


def listed(index: RolloutIndex, **params: Any) -> tuple[list[str], str | None]:
    page = list_page(
        index,
        msgspec.convert(params, ThreadListParams),
        by_update=params.get("sortKey") == "updated_at",
    )
    return [thread.meta.id for thread in page.items], page.next_cursor


def test_a_second_list_of_an_unchanged_home_reads_no_rollout_file(
    tmp_path: Path, opens: Opens
) -> None:
    for number in range(30):
        write_session(tmp_path, number)
    for number in range(30, 40):
        write_session(tmp_path, number, source="exec")  # hidden by the default source filter
    index = RolloutIndex(tmp_path)
    newest_first = [thread_id(n) for n in reversed(range(30))]

    ids, cursor = listed(index, limit=25)
    # The ten newer exec threads are read to be filtered out, then the page's 25.
    assert ids == newest_first[:25] and len(opens.take()) == 35
    assert index.files_read == 35

    assert listed(index, limit=25) == (ids, cursor)
    assert opens.take() == [] and index.files_read == 35

    rest, last = listed(index, limit=25, cursor=cursor)
    assert rest == newest_first[25:] and last is None
    assert len(opens.take()) == 5
    # Every file is known now: any order, filter or page reads none.
    assert listed(index, limit=100, sortDirection="asc")[0] == newest_first[::-1]
    assert listed(index, sourceKinds=["exec"], sortKey="updated_at")[0]
    assert listed(index, searchTerm="QUESTION 7")[0] == [thread_id(7)]
    assert opens.take() == []


def test_changed_added_and_deleted_files_are_picked_up(tmp_path: Path, opens: Opens) -> None:
    paths = [write_session(tmp_path, number) for number in range(5)]
    index = RolloutIndex(tmp_path)
    assert listed(index)[0] == [thread_id(n) for n in (4, 3, 2, 1, 0)]
    opens.take()

    # Changed: a name appended to the oldest thread; it is read again, and alone.
    append_record(paths[0], "event_msg", {"type": NAME_EVENT, "thread_name": "Renamed"})
    page = list_page(index, ThreadListParams(search_term="renamed"), by_update=False)
    assert [(t.meta.id, t.name) for t in page.items] == [(thread_id(0), "Renamed")]
    assert opens.take() == [paths[0]]
    # The write moved it to the front by update time.
    os.utime(paths[0], ns=(2**62, 2**62))
    assert listed(index, sortKey="updated_at")[0][0] == thread_id(0)
    assert opens.take() == [paths[0]]  # utime alone changed its mtime: read again

    # Added and deleted.
    added = write_session(tmp_path, 9)
    paths[2].unlink()
    assert listed(index)[0] == [thread_id(n) for n in (9, 4, 3, 1, 0)]
    assert opens.take() == [added]

    # Changed so that the reader refuses it: left out, like any unreadable file.
    with paths[3].open("ab") as handle:
        handle.write(b"not json\n" + encode_line("event_msg", {"type": "task_started"}))
    assert listed(index)[0] == [thread_id(n) for n in (9, 4, 1, 0)]
    assert opens.take() == [paths[3]]
    assert listed(index)[0] == [thread_id(n) for n in (9, 4, 1, 0)]
    assert opens.take() == []


def test_find_follows_a_thread_into_the_archive_and_latest_reads_first_lines(
    tmp_path: Path, opens: Opens
) -> None:
    first = write_session(tmp_path, 1, cwd=str(tmp_path))
    second = write_session(tmp_path, 2, cwd="/elsewhere")
    index = RolloutIndex(tmp_path)

    assert index.find(thread_id(1)) == (first, False)
    moved = archive_file(tmp_path, first)
    assert index.find(thread_id(1)) == (moved, True)
    assert index.find(thread_id(3)) is None
    with pytest.raises(ValueError):
        index.find("../escape")
    assert opens.take() == []  # by name alone

    assert index.latest() == second
    assert index.latest(tmp_path) is None  # the only thread there is archived
    assert index.latest(Path("/elsewhere")) == second


@pytest.fixture
async def server(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    client = await RawClient.start(codex_home, workdir, emulator)
    await client.initialize()
    yield client
    with contextlib.suppress(ProcessLookupError):
        assert await client.close() == 0
    assert client.schema_errors() == []


async def test_a_running_server_lists_what_another_process_changed(
    server: RawClient, codex_home: Path
) -> None:
    paths = [write_session(codex_home, number) for number in range(3)]
    first = await server.result("thread/list", {})
    assert [t["id"] for t in first["data"]] == [thread_id(n) for n in (2, 1, 0)]
    assert [t["name"] for t in first["data"]] == [None, None, None]

    append_record(paths[0], "event_msg", {"type": NAME_EVENT, "thread_name": "From elsewhere"})
    paths[1].unlink()
    write_session(codex_home, 5)

    second = await server.result("thread/list", {})
    assert [(t["id"], t["name"]) for t in second["data"]] == [
        (thread_id(5), None),
        (thread_id(2), None),
        (thread_id(0), "From elsewhere"),
    ]
    assert second["data"][2]["preview"] == "question 0"
