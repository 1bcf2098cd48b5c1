"""Unified exec under policy: the concurrency cap, the sandbox, escalation requests and their
remembered prefix rules, apply_patch interception, and which models get the tools."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from msgspec.structs import replace

from codex_engine.core.approvals import ApprovalRequest
from codex_engine.core.events import CommandFinished, CommandRejected, PatchFinished
from codex_engine.core.sandbox import detect_sandbox
from codex_engine.core.session import Session, SessionDeps
from codex_engine.core.tool_dispatch import command_tool
from codex_engine.core.tools.unified_exec import MAX_PROCESSES, LiveProcess, ProcessStore
from codex_engine.core.tools.unified_exec.spec import exec_command_spec, write_stdin_spec
from codex_engine.core.tools.unified_exec.store import ProcessEntry
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import make_client
from tests.test_session_turns import run, settings
from tests.test_unified_exec import exec_call, parse, uexec, unique_outputs


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    """A directory outside every writable root (/tmp is one under workspace-write)."""
    path = Path(tempfile.mkdtemp(prefix="codex-engine-test-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _sleeper(store: ProcessStore, tmp_path: Path, seconds: str) -> ProcessEntry:
    process = await LiveProcess.start(["sleep", seconds], cwd=tmp_path, env=None, tty=False)
    entry = ProcessEntry(store.new_id(), process, f"call_{seconds}", ["sleep", seconds])
    await store.add(entry)
    return entry


async def test_over_the_cap_the_least_recently_used_process_is_ended(tmp_path: Path) -> None:
    assert MAX_PROCESSES == 64  # the reference's cap
    store = ProcessStore()
    entries = [await _sleeper(store, tmp_path, f"60.{n}") for n in range(MAX_PROCESSES)]
    # The first one was used again since: the second is now the least recently used.
    assert store.get(entries[0].session_id) is entries[0]
    newest = await _sleeper(store, tmp_path, "60.99")
    assert len(store) == MAX_PROCESSES
    assert store.get(entries[1].session_id) is None
    assert entries[1].process.has_exited  # killed, not just forgotten
    assert not entries[0].process.has_exited and store.get(newest.session_id) is newest
    # A process that has exited goes before any live one, however recently used.
    await entries[5].process.terminate()
    await _sleeper(store, tmp_path, "60.98")
    assert store.get(entries[5].session_id) is None and not entries[2].process.has_exited
    await store.close()
    assert len(store) == 0 and all(e.process.has_exited for e in entries)


async def test_a_sandboxed_command_cannot_write_outside_the_writable_roots(
    emulator: ResponsesEmulator, tmp_path: Path, elsewhere: Path
) -> None:
    if not (await detect_sandbox()).available:
        pytest.skip("bubblewrap cannot sandbox here")
    work, outside = tmp_path / "work", elsewhere
    work.mkdir()
    emulator.enqueue(
        exec_call(f"echo in > inside.txt; echo out > {outside}/escaped.txt; echo rc=$?"),
        Reply.text("done"),
    )
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(work, sandbox_mode="workspace-write"), SessionDeps(client))
        await run(session, "write both")
        await session.aclose()
    result = parse(unique_outputs(emulator)[0])
    assert "rc=1" in result["output"] and "Read-only file system" in result["output"]
    assert (work / "inside.txt").read_text() == "in\n"
    assert not (outside / "escaped.txt").exists()


async def test_escalation_is_refused_when_nobody_can_approve(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(
        exec_call(
            f"touch {tmp_path}/escalated",
            sandbox_permissions="require_escalated",
            justification="Touch a file outside the sandbox?",
        ),
        Reply.text("ok"),
    )
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path, sandbox_mode="read-only"), SessionDeps(client))
        events = await run(session, "escalate")
    output = unique_outputs(emulator)[0]
    assert output.startswith("command not run: running outside the sandbox needs approval")
    assert "approval policy 'never'" in output
    rejected = next(e for e in events if isinstance(e, CommandRejected))
    assert not rejected.declined_by_user
    assert not (tmp_path / "escalated").exists()


async def test_an_approved_prefix_rule_runs_later_commands_unsandboxed_without_asking(
    emulator: ResponsesEmulator, tmp_path: Path, elsewhere: Path
) -> None:
    if not (await detect_sandbox()).available:
        pytest.skip("bubblewrap cannot sandbox here")
    asked: list[ApprovalRequest] = []

    async def approver(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    outside = elsewhere
    escalated = {"sandbox_permissions": "require_escalated", "prefix_rule": ["touch"]}
    emulator.enqueue(
        exec_call(f"touch {outside}/one", justification="Touch one?", **escalated),
        exec_call(f"touch {outside}/two", **escalated),
        Reply.text("done"),
    )
    async with make_client(emulator.base_url) as client:
        session = Session(
            uexec(tmp_path, sandbox_mode="workspace-write", approval_policy="on-request"),
            SessionDeps(client, approver=approver),
        )
        events = await run(session, "touch both")
        await session.aclose()
    assert len(asked) == 1
    assert asked[0].reason == "Touch one?" and asked[0].prefix_rule == ("touch",)
    assert not asked[0].sandboxed
    assert [e.exit_code for e in events if isinstance(e, CommandFinished)] == [0, 0]
    assert (outside / "one").exists() and (outside / "two").exists()


async def test_a_declined_escalation_is_told_to_the_model(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    async def approver(request: ApprovalRequest) -> bool:
        return False

    emulator.enqueue(
        exec_call("touch /x", sandbox_permissions="require_escalated"), Reply.text("ok")
    )
    async with make_client(emulator.base_url) as client:
        session = Session(
            uexec(tmp_path, sandbox_mode="read-only", approval_policy="on-request"),
            SessionDeps(client, approver=approver),
        )
        events = await run(session, "escalate")
    assert unique_outputs(emulator)[0] == "command not run: the user declined to run this command"
    assert next(e for e in events if isinstance(e, CommandRejected)).declined_by_user


async def test_apply_patch_in_exec_command_is_applied_by_the_engine(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: hello.txt\n+hi there\n*** End Patch"
    emulator.enqueue(exec_call(f"apply_patch <<'EOF'\n{patch}\nEOF\n"), Reply.text("patched"))
    async with make_client(emulator.base_url) as client:
        session = Session(uexec(tmp_path), SessionDeps(client))
        events = await run(session, "patch")
    assert (tmp_path / "hello.txt").read_text() == "hi there\n"
    assert any(isinstance(e, PatchFinished) for e in events)
    assert not any(isinstance(e, CommandFinished) for e in events)


def test_the_feature_and_the_catalog_shell_type_choose_the_command_tool(tmp_path: Path) -> None:
    plain = settings(tmp_path)
    # Feature unified_exec is on by default, as in 0.163.
    assert command_tool(plain) == "unified_exec"
    assert command_tool(replace(plain, unified_exec=False)) == "shell"
    catalog_says = replace(plain, model_info=replace(plain.model_info, shell_type="unified_exec"))
    assert command_tool(catalog_says) == "unified_exec"
    # With the feature off, an entry asking for unified exec gets shell_command (the reference
    # source maps it so).
    assert command_tool(replace(catalog_says, unified_exec=False)) == "shell_command"
    assert command_tool(replace(catalog_says, shell_tool=False)) is None


async def test_a_model_whose_catalog_entry_asks_gets_exec_command_not_shell(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    base = settings(tmp_path)
    info = replace(base.model_info, shell_type="unified_exec")
    emulator.enqueue(Reply.function_call("shell", {"command": ["echo", "hi"]}), Reply.text("done"))
    async with make_client(emulator.base_url) as client:
        session = Session(replace(base, model_info=info), SessionDeps(client))
        await run(session, "hi")
    tools = emulator.requests_of("http")[0].body["tools"]
    assert [t.get("name", t["type"]) for t in tools][:2] == ["exec_command", "write_stdin"]
    assert "shell" not in [t.get("name") for t in tools]
    # `shell` is then not run: the model is pointed at the tool it has.
    assert unique_outputs(emulator)[0] == "unsupported tool 'shell'; use `exec_command`"


def test_tool_definitions_match_what_the_reference_sends() -> None:
    recorded = json.loads((Path(__file__).parent / "reference" / "tools_0.163.json").read_text())
    for model in ("gpt-5.1-codex", "gpt-5.5"):
        tools = {t["name"]: t for t in recorded["models"][model]["tools"] if "name" in t}
        for ours in (exec_command_spec(), write_stdin_spec()):
            theirs = tools[ours["name"]]
            # The recording leaves descriptions out: compare everything else, field by field.
            stripped = json.loads(json.dumps(ours))
            stripped.pop("description")
            for prop in stripped["parameters"]["properties"].values():
                prop.pop("description")
            assert stripped == theirs
    # The complete definitions (descriptions too), recorded from 0.163 with model gpt-5.5.
    complete = json.loads(
        (Path(__file__).parent / "reference" / "unified_exec_0.163.json").read_text()
    )
    assert complete["tools"] == [exec_command_spec(), write_stdin_spec()]
    # And the shape our outputs are checked against is the one it sent.
    recorded = complete["outputs"]["echo_hi"]
    assert parse(recorded) == {"code": "0", "sid": None, "tokens": "1", "output": "hi\n"}


def test_unread_output_keeps_its_start_and_its_latest_bytes_within_the_cap() -> None:
    from codex_engine.core.tools.unified_exec.process import OUTPUT_MAX_BYTES, HeadTailBuffer

    assert OUTPUT_MAX_BYTES == 1024 * 1024  # the reference's cap
    buffer = HeadTailBuffer(limit=10)
    for chunk in (b"abc", b"defghij", b"klmnopqrstuvwxy"):
        buffer.push(chunk)
    assert (len(buffer), buffer.dropped) == (10, 15)
    assert buffer.take() == b"abcdeuvwxy"
    assert (len(buffer), buffer.dropped) == (0, 0)
