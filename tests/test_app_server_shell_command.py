"""``thread/shellCommand`` through real pipes, as codex 0.163 runs it: answered at once, then a
turn of its own with one ``userShell`` commandExecution item (output streamed), unsandboxed in
the thread's cwd, bounded by ``timeoutMs``, and told to the model in its next turn; every
message checked against the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.app_server_start import Start
from tests.test_app_server import RawClient, start_thread, start_turn


async def _run(client: RawClient, thread: str, command: str, **extra: Any) -> dict[str, Any]:
    """Run ``command``; the finished turn (its commandExecution item is its one item)."""
    before = len([m for m in client.notifications if m["method"] == "turn/started"])
    params = {"threadId": thread, "command": command, **extra}
    assert await client.result("thread/shellCommand", params) == {}
    started = await client.wait_for(
        lambda _m: len([m for m in client.notifications if m["method"] == "turn/started"]) > before
    )
    del started
    turn_id = [m for m in client.notifications if m["method"] == "turn/started"][-1]["params"]
    return await client.turn_completed(turn_id["turn"]["id"])


async def test_runs_unsandboxed_in_the_thread_cwd_and_the_model_hears_of_it(
    start: Start, emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    client = await start()
    thread = await start_thread(client, sandbox="read-only")
    command = "echo hi | tr a-z A-Z; pwd; echo made > made.txt; echo err >&2; exit 3"
    turn = await _run(client, thread, command)
    assert turn["status"] == "completed"
    [item] = turn["items"]
    assert item["type"] == "commandExecution" and item["source"] == "userShell"
    assert item["command"] == f"/bin/bash -lc '{command}'"
    assert item["cwd"] == str(tmp_path)
    assert item["commandActions"] == [{"type": "unknown", "command": command}]
    assert item["status"] == "failed" and item["exitCode"] == 3
    # (A login shell may print its own notices first, e.g. a busy pyenv lock on this machine.)
    assert item["aggregatedOutput"].endswith(f"HI\n{tmp_path}\nerr\n")
    # Full access: the read-only sandbox of the thread does not apply.
    assert (tmp_path / "made.txt").read_text() == "made\n"
    deltas = [
        m["params"]["delta"]
        for m in client.of_turn(turn["id"])
        if m["method"] == "item/commandExecution/outputDelta"
    ]
    assert "".join(deltas) == item["aggregatedOutput"]

    emulator.enqueue(Reply.text("ok"))
    await client.turn_completed(await start_turn(client, thread, "next"))
    texts = [
        part["text"]
        for entry in emulator.requests_of("http")[-1].body["input"]
        if entry.get("type") == "message"
        for part in entry["content"]
        if "text" in part
    ]
    note = next(t for t in texts if t.startswith("<user_shell_command>"))
    assert f"<command>\n{command}\n</command>" in note
    assert "Exit code: 3\n" in note and f"HI\n{tmp_path}\nerr\n\n</result>" in note


async def test_a_successful_command_completes_and_survives_in_the_rollout(
    start: Start, codex_home: Path
) -> None:
    client = await start()
    thread = await start_thread(client)
    turn = await _run(client, thread, "echo fine")
    [item] = turn["items"]
    assert item["status"] == "completed" and item["exitCode"] == 0
    assert item["aggregatedOutput"].endswith("fine\n")
    assert await client.close() == 0

    # Read back from the rollout by a new server: the command is its own turn.
    again = await start()
    read = await again.result("thread/read", {"threadId": thread, "includeTurns": True})
    [stored] = read["thread"]["turns"]
    assert stored["id"] == turn["id"]
    [shown] = stored["items"]
    assert shown == item


async def test_timeout_and_interrupt_end_the_command(start: Start) -> None:
    client = await start()
    thread = await start_thread(client)
    turn = await _run(client, thread, "sleep 30", timeoutMs=200)
    [item] = turn["items"]
    assert item["status"] == "failed" and item["exitCode"] == -1
    assert "timed out" in item["aggregatedOutput"]

    assert (
        await client.result("thread/shellCommand", {"threadId": thread, "command": "sleep 30"})
        == {}
    )
    started = await client.wait_for(
        lambda m: (
            m["method"] == "item/started"
            and m["params"]["item"]["command"].endswith("30'")
            and m["params"]["turnId"] != turn["id"]
        )
    )
    turn_id = started["params"]["turnId"]
    busy = await client.error(
        "turn/start", {"threadId": thread, "input": [{"type": "text", "text": "hi"}]}
    )
    assert "in progress" in busy["message"]
    await client.result("turn/interrupt", {"threadId": thread, "turnId": turn_id})
    interrupted = await client.turn_completed(turn_id)
    assert interrupted["status"] == "interrupted"
    assert interrupted["items"][0]["status"] == "failed"


async def test_bad_params_are_refused(start: Start) -> None:
    client = await start()
    thread = await start_thread(client)
    empty = await client.error("thread/shellCommand", {"threadId": thread, "command": "  "})
    assert "command" in empty["message"]
    negative = await client.error(
        "thread/shellCommand", {"threadId": thread, "command": "true", "timeoutMs": -1}
    )
    assert "timeoutMs" in negative["message"]
    missing = await client.error("thread/shellCommand", {"threadId": "nope", "command": "true"})
    assert "not loaded" in missing["message"]
