"""``review/start`` over real pipes: inline and detached reviews of each target kind, the
review-mode items, the structured result, and what the thread keeps of it.

Every message the server writes is validated against the reference schema by the fixture.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server.projector import REVIEW_WITHOUT_RESULT
from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.test_app_server import Json, RawClient, start_thread, start_turn

FINDINGS = {
    "findings": [
        {
            "title": "[P1] Guard the empty list",
            "body": "`first()` raises IndexError when `items` is empty.",
            "confidence_score": 0.8,
            "priority": 1,
            "code_location": {
                "absolute_file_path": "/repo/app.py",
                "line_range": {"start": 3, "end": 4},
            },
        }
    ],
    "overall_correctness": "patch is incorrect",
    "overall_explanation": "One crash on empty input.",
    "overall_confidence_score": 0.7,
}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, workdir, emulator)
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


@pytest.fixture
def repo(workdir: Path) -> Path:
    _git(workdir, "init", "-q", "-b", "main")
    (workdir / "app.py").write_text("def first(items):\n    return items[0]\n")
    _git(workdir, "add", "-A")
    _git(workdir, "commit", "-qm", "first")
    (workdir / "app.py").write_text("def first(items):\n    return items[0] if items else 1\n")
    (workdir / "AGENTS.md").write_text("PROJECT-RULES-MARKER\n")
    return workdir


def _items(events: list[Json], method: str, kind: str) -> list[Json]:
    return [
        m["params"]["item"]
        for m in events
        if m["method"] == method and m["params"]["item"]["type"] == kind
    ]


async def _review(client: RawClient, thread_id: str, target: Json, **extra: Any) -> Json:
    return await client.result("review/start", {"threadId": thread_id, "target": target, **extra})


async def test_an_inline_review_of_the_working_tree_shows_review_items_and_keeps_the_result(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("shell", {"command": ["git", "diff"]}),
        Reply.text(json.dumps(FINDINGS)),
    )
    await client.initialize()
    # The reviewer runs `git diff` with the `shell` tool: unified exec off for this thread.
    thread_id = await start_thread(
        client, approvalPolicy="never", config={"features.unified_exec": False}
    )
    started = await _review(client, thread_id, {"type": "uncommittedChanges"})
    assert started["reviewThreadId"] == thread_id
    turn_id = started["turn"]["id"]
    assert started["turn"]["status"] == "inProgress"
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "completed"
    events = client.of_turn(turn_id)

    # The reviewer is asked with the rubric as its instructions, without AGENTS.md.
    request = emulator.requests_of("http")[0].body
    assert request["instructions"].startswith("# Reviewing a code change")
    sent = json.dumps(request["input"])
    assert "not committed yet" in sent and "PROJECT-RULES-MARKER" not in sent
    assert not any(t.get("type") == "web_search" for t in request.get("tools", []))

    (entered,) = _items(events, "item/completed", "enteredReviewMode")
    assert entered["review"] == "current changes"
    assert _items(events, "item/started", "enteredReviewMode") == [entered]
    (command,) = _items(events, "item/completed", "commandExecution")
    assert command["command"] == "git diff" and command["exitCode"] == 0
    (exited,) = _items(events, "item/completed", "exitedReviewMode")
    assert exited["id"] != entered["id"]
    review = exited["review"]
    assert review.startswith("One crash on empty input.")
    assert "- [P1] Guard the empty list — /repo/app.py:3-4" in review
    # The reviewer's own JSON answer is not streamed; the rendered result is the agent message.
    assert not [m for m in events if m["method"] == "item/agentMessage/delta"]
    (answer,) = _items(events, "item/completed", "agentMessage")
    assert answer["text"] == review
    # What the reviewer was asked is shown as a user message, as the reference shows it.
    (asked,) = _items(events, "item/completed", "userMessage")
    assert "not committed yet" in asked["content"][0]["text"]
    order = [m["params"]["item"]["type"] for m in events if m["method"] == "item/completed"]
    assert order.index("enteredReviewMode") < order.index("userMessage")
    assert order.index("userMessage") < order.index("commandExecution")
    assert order.index("exitedReviewMode") < order.index("agentMessage")
    assert [i["type"] for i in turn["items"]][-2:] == ["exitedReviewMode", "agentMessage"]

    # The next turn's model reads the review's result (not the reviewer's work).
    follow = await start_turn(client, thread_id, "fix the findings")
    await client.turn_completed(follow)
    sent = json.dumps(emulator.requests_of("http")[-1].body["input"])
    assert "<user_action>" in sent and "Guard the empty list" in sent
    assert "not committed yet" not in sent


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Looks fine to me, no issues.", "Looks fine to me, no issues."),
        (f"Here you go:\n{json.dumps(FINDINGS)}\nbye", "One crash on empty input."),
    ],
    ids=["prose", "json-in-prose"],
)
async def test_a_review_answer_is_parsed_as_json_where_it_can_be(
    client: RawClient, emulator: ResponsesEmulator, repo: Path, answer: str, expected: str
) -> None:
    emulator.enqueue(Reply.text(answer))
    await client.initialize()
    thread_id = await start_thread(client)
    started = await _review(client, thread_id, {"type": "custom", "instructions": " check it "})
    turn_id = started["turn"]["id"]
    await client.turn_completed(turn_id)
    events = client.of_turn(turn_id)
    (entered,) = _items(events, "item/completed", "enteredReviewMode")
    assert entered["review"] == "check it"
    assert json.dumps(emulator.requests_of("http")[0].body["input"]).count("check it") == 1
    (exited,) = _items(events, "item/completed", "exitedReviewMode")
    assert exited["review"].startswith(expected)


async def test_a_base_branch_review_names_the_merge_base_and_a_commit_review_the_commit(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    _git(repo, "checkout", "-qb", "feature")
    _git(repo, "commit", "-qam", "feature work")
    base = _git(repo, "merge-base", "HEAD", "main")
    sha = _git(repo, "rev-parse", "HEAD")
    emulator.enqueue(Reply.text("{}"), Reply.text("{}"))
    await client.initialize()
    thread_id = await start_thread(client)

    first = await _review(client, thread_id, {"type": "baseBranch", "branch": "main"})
    await client.turn_completed(first["turn"]["id"])
    sent = json.dumps(emulator.requests_of("http")[0].body["input"])
    assert f"git diff {base}" in sent
    (entered,) = _items(client.of_turn(first["turn"]["id"]), "item/completed", "enteredReviewMode")
    assert entered["review"] == "changes against 'main'"

    target = {"type": "commit", "sha": sha, "title": "feature work"}
    second = await _review(client, thread_id, target)
    await client.turn_completed(second["turn"]["id"])
    sent = json.dumps(emulator.requests_of("http")[1].body["input"])
    assert sha in sent and "feature work" in sent
    events = client.of_turn(second["turn"]["id"])
    (entered,) = _items(events, "item/completed", "enteredReviewMode")
    assert entered["review"] == f"commit {sha[:7]}: feature work"
    (exited,) = _items(events, "item/completed", "exitedReviewMode")
    assert exited["review"]  # "{}": no findings, no explanation, still a result


async def test_a_detached_review_runs_on_a_forked_thread_and_warns_it_is_deprecated(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    emulator.enqueue(Reply.text("first answer"), Reply.text(json.dumps(FINDINGS)))
    await client.initialize()
    thread_id = await start_thread(client)
    await client.turn_completed(await start_turn(client, thread_id, "hello"))
    started = await _review(client, thread_id, {"type": "uncommittedChanges"}, delivery="detached")
    review_thread = started["reviewThreadId"]
    assert review_thread != thread_id
    turn = await client.turn_completed(started["turn"]["id"])
    assert turn["status"] == "completed"
    announced = [
        m["params"]["thread"]
        for m in client.notifications
        if m["method"] == "thread/started" and m["params"]["thread"]["id"] == review_thread
    ]
    assert announced and announced[0]["forkedFromId"] == thread_id
    notices = [m["params"] for m in client.notifications if m["method"] == "deprecationNotice"]
    assert len(notices) == 1 and "detached" in notices[0]["summary"]
    events = client.of_turn(started["turn"]["id"])
    assert {m["params"]["threadId"] for m in events if "threadId" in m["params"]} == {review_thread}
    # The original thread is untouched by the review.
    read = await client.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert len(read["thread"]["turns"]) == 1


async def test_an_interrupted_review_exits_review_mode_without_a_result(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    emulator.first_event_delay = 3600
    await client.initialize()
    thread_id = await start_thread(client)
    started = await _review(client, thread_id, {"type": "uncommittedChanges"})
    turn_id = started["turn"]["id"]
    await emulator.wait_for_request("http")
    await client.result("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
    turn = await client.turn_completed(turn_id)
    assert turn["status"] == "interrupted"
    (exited,) = _items(client.of_turn(turn_id), "item/completed", "exitedReviewMode")
    assert exited["review"] == REVIEW_WITHOUT_RESULT


async def test_review_start_refuses_what_it_cannot_review(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    await client.initialize()
    thread_id = await start_thread(client)
    error = await client.error(
        "review/start", {"threadId": thread_id, "target": {"type": "custom", "instructions": " "}}
    )
    assert error["code"] == -32600 and "instructions" in error["message"]
    error = await client.error(
        "review/start", {"threadId": thread_id, "target": {"type": "somethingElse"}}
    )
    assert error["code"] == -32600
    error = await client.error(
        "review/start", {"threadId": "no-such-thread", "target": {"type": "uncommittedChanges"}}
    )
    assert "no-such-thread" in error["message"]
    ephemeral = await start_thread(client, ephemeral=True)
    error = await client.error(
        "review/start",
        {"threadId": ephemeral, "target": {"type": "uncommittedChanges"}, "delivery": "detached"},
    )
    assert "ephemeral" in error["message"]
    # Nothing started: the thread still takes a turn.
    assert emulator.requests_of("http") == []
    await client.turn_completed(await start_turn(client, thread_id, "still here"))


async def test_a_recorded_review_turn_reads_back_as_the_reference_shows_it(
    client: RawClient, emulator: ResponsesEmulator, repo: Path
) -> None:
    emulator.enqueue(Reply.text(json.dumps(FINDINGS)), Reply.text("after the review"))
    await client.initialize()
    thread_id = await start_thread(client)
    started = await _review(client, thread_id, {"type": "uncommittedChanges"})
    turn_id = started["turn"]["id"]
    await client.turn_completed(turn_id)
    await client.turn_completed(await start_turn(client, thread_id, "next question"))
    # A fork reads the thread's rollout: the review is one turn, the next turn its own.
    forked = await client.result("thread/fork", {"threadId": thread_id})
    turns = forked["thread"]["turns"]
    assert len(turns) == 2 and turns[0]["id"] == turn_id
    review = turns[0]
    assert [i["type"] for i in review["items"]] == [
        "enteredReviewMode",
        "exitedReviewMode",
        "agentMessage",
    ]
    assert review["items"][0]["review"] == "current changes"
    assert review["items"][1]["review"] == review["items"][2]["text"]
    assert "Guard the empty list" in review["items"][1]["review"]
    assert review["status"] == "completed"
    assert [i["type"] for i in turns[1]["items"]] == ["userMessage", "agentMessage"]
    assert turns[1]["items"][0]["content"][0]["text"] == "next question"
