"""Thread methods of ``codex-engine app-server`` across processes: resume, fork, list, read,
archive, names, compaction and per-turn overrides; every message checked against the schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import Json, RawClient, start_thread


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


class Servers:
    """Starts app-server processes one after another on the same CODEX_HOME."""

    def __init__(self, home: Path, cwd: Path, emulator: ResponsesEmulator) -> None:
        self.home, self.cwd, self.emulator = home, cwd, emulator
        self.clients: list[RawClient] = []

    async def start(self) -> RawClient:
        client = await RawClient.start(self.home, self.cwd, self.emulator)
        self.clients.append(client)
        await client.initialize()
        return client

    async def stop(self, client: RawClient) -> None:
        assert await client.close() == 0
        assert client.schema_errors() == []


@pytest.fixture
async def servers(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[Servers]:
    pool = Servers(codex_home, workdir, emulator)
    yield pool
    for client in pool.clients:
        if client.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                await client.close()
        assert client.schema_errors() == []


async def run_turn(client: RawClient, thread_id: str, text: str, **params: Any) -> Json:
    result = await client.result(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "text", "text": text}], **params},
    )
    return await client.turn_completed(result["turn"]["id"])


def last_request(emulator: ResponsesEmulator) -> Json:
    body: Json = emulator.requests_of("http")[-1].body
    return body


def user_texts(request: Json) -> list[str]:
    texts = []
    for item in request["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            text = "".join(part.get("text", "") for part in item["content"])
            if not text.startswith("<"):
                texts.append(text)
    return texts


async def test_resume_in_a_new_process_keeps_history_and_base_instructions(
    servers: Servers, emulator: ResponsesEmulator
) -> None:
    first = await servers.start()
    started = await first.result("thread/start", {"baseInstructions": "You are BASE-X."})
    thread_id = started["thread"]["id"]
    turn_ids = []
    for text in ("question one", "question two"):
        turn = await run_turn(first, thread_id, text)
        assert turn["status"] == "completed"
        turn_ids.append(turn["id"])
    await servers.stop(first)

    second = await servers.start()
    # Not loaded yet: read straight from the rollout.
    read = await second.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    stored = read["thread"]
    assert stored["status"] == {"type": "notLoaded"}
    assert stored["preview"] == "question one"
    assert [t["id"] for t in stored["turns"]] == turn_ids
    assert [t["status"] for t in stored["turns"]] == ["completed", "completed"]
    kinds = [[item["type"] for item in t["items"]] for t in stored["turns"]]
    assert kinds == [["userMessage", "agentMessage"]] * 2
    assert "You said: question two" in stored["turns"][1]["items"][1]["text"]

    resumed = await second.result("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["id"] == thread_id
    assert resumed["thread"]["status"] == {"type": "idle"}
    assert [t["id"] for t in resumed["thread"]["turns"]] == turn_ids
    turn = await run_turn(second, thread_id, "question three")
    assert turn["status"] == "completed"
    request = last_request(emulator)
    assert request["instructions"] == "You are BASE-X."
    assert user_texts(request) == ["question one", "question two", "question three"]
    again = await second.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert len(again["thread"]["turns"]) == 3
    await servers.stop(second)

    third = await servers.start()
    await third.result(
        "thread/resume", {"threadId": thread_id, "baseInstructions": "You are BASE-Y."}
    )
    await run_turn(third, thread_id, "question four")
    assert last_request(emulator)["instructions"] == "You are BASE-Y."
    await servers.stop(third)


async def test_fork_through_a_turn_or_the_whole_thread(
    servers: Servers, emulator: ResponsesEmulator
) -> None:
    client = await servers.start()
    source = await start_thread(client, baseInstructions="You are FORK-BASE.")
    turns = [await run_turn(client, source, text) for text in ("alpha", "beta", "gamma")]

    partial = await client.result("thread/fork", {"threadId": source, "lastTurnId": turns[0]["id"]})
    fork_id = partial["thread"]["id"]
    assert fork_id != source and partial["thread"]["forkedFromId"] == source
    assert [t["id"] for t in partial["thread"]["turns"]] == [turns[0]["id"]]
    await client.wait_for(
        lambda m: m["method"] == "thread/started" and m["params"]["thread"]["id"] == fork_id
    )
    await run_turn(client, fork_id, "delta on the fork")
    request = last_request(emulator)
    assert request["instructions"] == "You are FORK-BASE."
    assert user_texts(request) == ["alpha", "delta on the fork"]

    whole = await client.result("thread/fork", {"threadId": source, "excludeTurns": True})
    assert whole["thread"]["turns"] == []
    read = await client.result(
        "thread/read", {"threadId": whole["thread"]["id"], "includeTurns": True}
    )
    assert [t["id"] for t in read["thread"]["turns"]] == [t["id"] for t in turns]

    unknown = await client.error("thread/fork", {"threadId": source, "lastTurnId": "nope"})
    assert unknown["code"] == -32600 and "lastTurnId" in unknown["message"]
    # The source thread is untouched and keeps going.
    await run_turn(client, source, "epsilon")
    assert user_texts(last_request(emulator)) == ["alpha", "beta", "gamma", "epsilon"]


async def test_list_pages_newest_first_and_archive_moves_threads_out_and_back(
    servers: Servers, codex_home: Path
) -> None:
    client = await servers.start()
    ids = []
    for index in range(3):
        thread_id = await start_thread(client)
        await run_turn(client, thread_id, f"thread {index}")
        ids.append(thread_id)
    newest_first = list(reversed(ids))

    page = await client.result("thread/list", {"limit": 2})
    assert [t["id"] for t in page["data"]] == newest_first[:2]
    assert page["nextCursor"]
    rest = await client.result("thread/list", {"limit": 2, "cursor": page["nextCursor"]})
    assert [t["id"] for t in rest["data"]] == newest_first[2:]
    assert rest["nextCursor"] is None
    oldest_first = await client.result("thread/list", {"sortDirection": "asc"})
    assert [t["id"] for t in oldest_first["data"]] == ids
    assert page["data"][0]["preview"] == "thread 2"
    assert page["data"][0]["status"] == {"type": "idle"}
    searched = await client.result("thread/list", {"searchTerm": "THREAD 1"})
    assert [t["id"] for t in searched["data"]] == [ids[1]]
    bad = await client.error("thread/list", {"cursor": "garbage"})
    assert bad["code"] == -32600

    assert await client.result("thread/archive", {"threadId": ids[1]}) == {}
    await client.wait_for(
        lambda m: m["method"] == "thread/archived" and m["params"]["threadId"] == ids[1]
    )
    assert list((codex_home / "archived_sessions").glob(f"*{ids[1]}.jsonl"))
    listed = await client.result("thread/list", {})
    assert [t["id"] for t in listed["data"]] == [ids[2], ids[0]]
    archived = await client.result("thread/list", {"archived": True})
    assert [t["id"] for t in archived["data"]] == [ids[1]]
    assert archived["data"][0]["status"] == {"type": "notLoaded"}
    refused = await client.error("thread/resume", {"threadId": ids[1]})
    assert "unarchive" in refused["message"]

    restored = await client.result("thread/unarchive", {"threadId": ids[1]})
    assert restored["thread"]["id"] == ids[1] and restored["thread"]["preview"] == "thread 1"
    await client.wait_for(lambda m: m["method"] == "thread/unarchived")
    listed = await client.result("thread/list", {})
    assert [t["id"] for t in listed["data"]] == newest_first
    resumed = await client.result("thread/resume", {"threadId": ids[1]})
    assert len(resumed["thread"]["turns"]) == 1


async def test_names_persist_in_the_rollout(servers: Servers) -> None:
    client = await servers.start()
    thread_id = await start_thread(client)
    await run_turn(client, thread_id, "name me")
    assert await client.result("thread/name/set", {"threadId": thread_id, "name": "Mine"}) == {}
    note = await client.wait_for(lambda m: m["method"] == "thread/name/updated")
    assert note["params"] == {"threadId": thread_id, "threadName": "Mine"}
    read = await client.result("thread/read", {"threadId": thread_id})
    assert read["thread"]["name"] == "Mine"
    path = Path(read["thread"]["path"])
    await servers.stop(client)
    text = await asyncio.to_thread(path.read_text)
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"type": "thread_name_updated", "thread_name": "Mine"} in [
        line["payload"] for line in lines if line["type"] == "event_msg"
    ]

    other = await servers.start()
    listed = await other.result("thread/list", {})
    assert listed["data"][0]["name"] == "Mine"
    # Renaming a thread that is not loaded appends to its rollout too.
    await other.result("thread/name/set", {"threadId": thread_id, "name": "Renamed"})
    read = await other.result("thread/read", {"threadId": thread_id})
    assert read["thread"]["name"] == "Renamed"


async def test_compaction_runs_as_a_turn_with_a_context_compaction_item(
    servers: Servers, emulator: ResponsesEmulator
) -> None:
    client = await servers.start()
    thread_id = await start_thread(client)
    await run_turn(client, thread_id, "remember the number 42")
    requests_before = len(emulator.requests_of("http"))
    assert await client.result("thread/compact/start", {"threadId": thread_id}) == {}
    started = await client.wait_for(
        lambda m: (
            m["method"] == "item/started" and m["params"]["item"]["type"] == "contextCompaction"
        )
    )
    turn_id = started["params"]["turnId"]
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    assert [item["type"] for item in turn["items"]] == ["contextCompaction"]
    methods = [m["method"] for m in client.of_turn(turn_id)]
    assert methods[0] == "turn/started" and methods[-1] == "turn/completed"
    assert "item/completed" in methods
    assert len(emulator.requests_of("http")) == requests_before + 1
    after = await run_turn(client, thread_id, "what was the number?")
    assert after["status"] == "completed"
    # The compacted history still carries the user's own words.
    assert "remember the number 42" in json.dumps(last_request(emulator)["input"])


async def test_turn_overrides_change_the_session_for_later_turns(
    servers: Servers, emulator: ResponsesEmulator, workdir: Path, tmp_path: Path
) -> None:
    client = await servers.start()
    thread_id = await start_thread(client)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    turn = await run_turn(
        client,
        thread_id,
        "with overrides",
        model="gpt-5.1-codex-mini",
        effort="high",
        cwd=str(elsewhere),
        approvalPolicy="never",
        sandboxPolicy={"type": "dangerFullAccess"},
    )
    assert turn["status"] == "completed"
    request = last_request(emulator)
    assert request["model"] == "gpt-5.1-codex-mini"
    assert request["reasoning"]["effort"] == "high"
    assert str(elsewhere) in json.dumps(request["input"])
    read = await client.result("thread/read", {"threadId": thread_id})
    assert read["thread"]["model"] == "gpt-5.1-codex-mini"
    assert read["thread"]["cwd"] == str(elsewhere)
    await run_turn(client, thread_id, "no overrides now")
    assert last_request(emulator)["model"] == "gpt-5.1-codex-mini"
    bad = await client.error(
        "turn/start",
        {
            "threadId": thread_id,
            "input": [{"type": "text", "text": "x"}],
            "sandboxPolicy": {"type": "externalSandbox"},
        },
    )
    assert bad["code"] == -32600 and "externalSandbox" in bad["message"]


def make_repo(workdir: Path) -> str:
    """A one-commit repository on ``main`` with an origin; returns the commit hash."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(workdir)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://example.com/repo.git"], check=True)
    (workdir / "f.txt").write_text("x")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    done = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    return done.stdout.strip()


async def test_thread_git_info_comes_from_the_working_directory(
    servers: Servers, workdir: Path
) -> None:
    sha = await asyncio.to_thread(make_repo, workdir)
    client = await servers.start()
    started = await client.result("thread/start", {"cwd": str(workdir)})
    expected = {"sha": sha, "branch": "main", "originUrl": "https://example.com/repo.git"}
    assert started["thread"]["gitInfo"] == expected
    listed = await client.result("thread/list", {})
    assert listed["data"][0]["gitInfo"] == expected
