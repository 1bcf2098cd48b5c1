"""Who reviews command and patch approvals over the app-server, via the official SDK and pipes.

The host has no usable OS sandbox (a ``bwrap`` that fails is first on ``PATH``), so a command
that writes outside the workspace cannot be confined under ``workspace-write``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server.approvals import (
    answer_of,
    available_decisions,
    proposed_amendment,
)
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import TEST_MODEL, cli_env
from tests.session_support import outputs_sent
from tests.test_app_server import Json, RawClient, start_thread, start_turn

openai_codex = pytest.importorskip("openai_codex")

CODEX_ENGINE_BIN = Path(sys.executable).parent / "codex-engine"
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "reference"
DECLINED = "command not run: the automatic approval reviewer declined it"


@pytest.fixture
def no_sandbox_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A PATH whose ``bwrap`` exits 1, as on hosts that forbid user namespaces."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", path)
    return path


@dataclass
class Places:
    workspace: Path
    outside: Path


@pytest.fixture
def places(tmp_path: Path) -> Places:
    workspace, outside = tmp_path / "work", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    return Places(workspace, outside)


@dataclass
class Recorder:
    """Wraps the SDK's own (accept-everything) handler and keeps what it was asked."""

    default: Any
    answer: Any = None
    asked: list[tuple[str, Json]] = field(default_factory=list)

    def __call__(self, method: str, params: Json | None) -> Json:
        self.asked.append((method, params or {}))
        if self.answer is not None:
            return {"decision": self.answer}
        return self.default(method, params)  # type: ignore[no-any-return]


@pytest.fixture
async def sdk(
    emulator: ResponsesEmulator, codex_home: Path, places: Places, no_sandbox_path: str
) -> AsyncIterator[tuple[Any, Recorder]]:
    config = openai_codex.CodexConfig(
        codex_bin=str(CODEX_ENGINE_BIN),
        config_overrides=(
            f"model={TEST_MODEL}",
            # These are approvals of `shell` commands (and patches sent through it).
            "features.unified_exec=false",
            "model_provider=emulator",
            f"model_providers.emulator.base_url={emulator.base_url}",
        ),
        env=cli_env(codex_home, PATH=no_sandbox_path),
        cwd=str(places.workspace),
    )
    async with openai_codex.AsyncCodex(config) as codex:
        sync_client = codex._client._sync
        recorder = Recorder(sync_client._approval_handler)
        sync_client._approval_handler = recorder
        yield codex, recorder


def _commands(result: Any) -> list[Any]:
    return [item.root for item in result.items if item.root.type == "commandExecution"]


def _validator(kind: str) -> Any:
    from jsonschema import Draft7Validator

    root = json.loads((SCHEMAS / kind / "ServerRequest.json").read_text())
    return Draft7Validator({**root, "$ref": "#/definitions/CommandExecutionRequestApprovalParams"})


async def test_sdk_defaults_never_approve_a_write_the_sandbox_cannot_contain(
    sdk: tuple[Any, Recorder], places: Places, emulator: ResponsesEmulator
) -> None:
    codex, recorder = sdk
    target = places.outside / "pwned"
    # The SDK's defaults: approvalPolicy on-request, approvalsReviewer auto_review.
    thread = await codex.thread_start(sandbox=openai_codex.Sandbox.workspace_write)
    result = await thread.run(f"run `touch {target}`")
    assert result.status.value == "completed"
    assert not target.exists()
    assert recorder.asked == []  # no request reached the client's accept-everything handler
    (command,) = _commands(result)
    assert command.status.value == "declined"
    assert outputs_sent(emulator)[-1].startswith(DECLINED)
    assert "workspace-write" in outputs_sent(emulator)[-1]


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"reference schema not found at {SCHEMAS}")
async def test_the_user_reviewer_is_asked_with_the_schema_fields_and_a_turn_can_switch(
    sdk: tuple[Any, Recorder], places: Places, emulator: ResponsesEmulator
) -> None:
    codex, recorder = sdk
    started = await codex._client.thread_start(
        {
            "approvalPolicy": "on-request",
            "approvalsReviewer": "user",
            "sandbox": "workspace-write",
            "cwd": str(places.workspace),
        }
    )
    assert started.approvals_reviewer.value == "user"
    thread = openai_codex.AsyncThread(codex, started.thread.id)
    approved = places.outside / "approved"
    result = await thread.run(f"run `touch {approved}`")
    assert result.status.value == "completed"
    ((method, params),) = recorder.asked
    assert method == "item/commandExecution/requestApproval"
    for kind in ("app-server-schema", "app-server-schema-experimental"):
        errors = [e.message for e in _validator(kind).iter_errors(params)]
        assert errors == [], (kind, errors)
    assert params["proposedExecpolicyAmendment"] == ["touch", str(approved)]
    # As the reference fills them: a command (not terminal input), run on this machine.
    assert (params["kind"], params["environmentId"]) == ("command", "local")
    assert params["availableDecisions"] == [
        "accept",
        {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", str(approved)]}},
        "cancel",
    ]
    assert params["reason"] and "workspace-write" in params["reason"]
    # The user said yes (the SDK's default handler), so it ran even without a sandbox.
    assert approved.exists()

    # This turn hands the review to the engine: declined, and the client is not asked.
    refused = places.outside / "refused"
    result = await thread.run(
        f"run `touch {refused}`", approval_mode=openai_codex.ApprovalMode.auto_review
    )
    assert result.status.value == "completed"
    assert not refused.exists() and len(recorder.asked) == 1
    assert outputs_sent(emulator)[-1].startswith(DECLINED)


async def test_an_accepted_prefix_rule_approves_the_same_command_again_without_asking(
    sdk: tuple[Any, Recorder], places: Places
) -> None:
    codex, recorder = sdk
    target = places.outside / "again"
    started = await codex._client.thread_start(
        {"approvalsReviewer": "user", "sandbox": "workspace-write", "cwd": str(places.workspace)}
    )
    thread = openai_codex.AsyncThread(codex, started.thread.id)
    prefix = ["touch", str(target)]
    recorder.answer = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": prefix}}
    for _ in range(2):
        result = await thread.run(f"run `touch {target}`")
        assert [c.status.value for c in _commands(result)] == ["completed"]
    assert len(recorder.asked) == 1


@pytest.fixture
async def raw(
    emulator: ResponsesEmulator, codex_home: Path, places: Places, no_sandbox_path: str
) -> AsyncIterator[RawClient]:
    client = await RawClient.start(codex_home, places.workspace, emulator)
    try:
        await client.initialize()
        yield client
    finally:
        assert await client.close() == 0
    assert client.schema_errors() == []


async def _turn_commands(client: RawClient, thread_id: str, text: str) -> list[Json]:
    turn_id = await start_turn(client, thread_id, text)
    assert (await client.turn_completed(turn_id))["status"] == "completed"
    return [
        m["params"]["item"]
        for m in client.of_turn(turn_id)
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "commandExecution"
    ]


async def test_fork_and_resume_take_the_reviewer_they_are_given(
    raw: RawClient,
    places: Places,
    emulator: ResponsesEmulator,
    codex_home: Path,
) -> None:
    settings = {"sandbox": "workspace-write", "cwd": str(places.workspace)}
    # A thread reviewed by the user, recorded by another app-server process that has ended.
    first = await RawClient.start(codex_home, places.workspace, emulator)
    try:
        await first.initialize()
        thread_id = await start_thread(first, approvalsReviewer="user", **settings)
        await _turn_commands(first, thread_id, "hello")
    finally:
        assert await first.close() == 0

    fork = await raw.result(
        "thread/fork", {"threadId": thread_id, "approvalsReviewer": "auto_review", **settings}
    )
    assert fork["approvalsReviewer"] == "auto_review"
    forked = places.outside / "forked"
    (command,) = await _turn_commands(raw, fork["thread"]["id"], f"run `touch {forked}`")
    assert command["status"] == "declined" and not forked.exists()
    assert outputs_sent(emulator)[-1].startswith(DECLINED)

    resumed = await raw.result(
        "thread/resume",
        {"threadId": thread_id, "approvalsReviewer": "guardian_subagent", **settings},
    )
    assert resumed["approvalsReviewer"] == "guardian_subagent"
    target = places.outside / "resumed"
    (command,) = await _turn_commands(raw, thread_id, f"run `touch {target}`")
    assert command["status"] == "declined" and not target.exists()
    assert raw.server_requests.empty()


@pytest.mark.parametrize(
    ("command", "amendment"),
    [
        (["bash", "-lc", "touch /tmp/x"], ["touch", "/tmp/x"]),
        (["/bin/zsh", "-c", "git push origin main"], ["git", "push", "origin", "main"]),
        (["touch", "x"], ["touch", "x"]),
        # Not one simple command, or words the shell would expand: no rule is offered.
        (["bash", "-lc", "touch a && rm b"], None),
        (["bash", "-lc", "rm *.log"], None),
        (["bash", "-lc", "echo $HOME > f"], None),
        (["bash", "--rcfile", "x"], None),
    ],
)
def test_a_prefix_rule_is_offered_for_one_simple_command(
    command: list[str], amendment: list[str] | None
) -> None:
    assert proposed_amendment(command) == amendment
    decisions = available_decisions(amendment)
    assert decisions[0] == "accept" and decisions[-1] == "cancel"
    assert len(decisions) == (3 if amendment else 2)


@pytest.mark.parametrize(
    ("answer", "decision", "prefix"),
    [
        ("accept", "accept", None),
        ("acceptForSession", "acceptForSession", None),
        ("decline", "decline", None),
        ("cancel", "cancel", None),
        ({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["ls"]}}, "accept", ("ls",)),
        ({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": []}}, "accept", None),
        ({"applyNetworkPolicyAmendment": {}}, "accept", None),
        ("yes please", "decline", None),
        (None, "decline", None),
    ],
)
def test_client_answers_become_decisions(answer: Any, decision: str, prefix: Any) -> None:
    parsed = answer_of(answer)
    assert (parsed.decision, parsed.prefix) == (decision, prefix)


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"reference schema not found at {SCHEMAS}")
async def test_a_patch_outside_the_writable_roots_asks_the_client_for_a_file_change_approval(
    sdk: tuple[Any, Recorder], places: Places, emulator: ResponsesEmulator
) -> None:
    from jsonschema import Draft7Validator

    codex, recorder = sdk
    started = await codex._client.thread_start(
        {"approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": "read-only"}
    )
    thread = openai_codex.AsyncThread(codex, started.thread.id)

    def patch_turn(name: str) -> list[Reply]:
        patch = f"*** Begin Patch\n*** Add File: {name}\n+hi\n*** End Patch"
        script = f"apply_patch <<'EOF'\n{patch}\nEOF\n"
        call = Reply.function_call("shell", {"command": ["bash", "-lc", script]})
        return [call, Reply.text("done")]

    emulator.enqueue(*patch_turn("accepted.txt"))
    result = await thread.run("add accepted.txt")
    ((method, params),) = recorder.asked
    assert method == "item/fileChange/requestApproval"
    root = json.loads((SCHEMAS / "app-server-schema/ServerRequest.json").read_text())
    validator = Draft7Validator({**root, "$ref": "#/definitions/FileChangeRequestApprovalParams"})
    assert [e.message for e in validator.iter_errors(params)] == []
    assert "read-only" in params["reason"]
    assert (places.workspace / "accepted.txt").read_text() == "hi\n"
    (change,) = [i.root for i in result.items if i.root.type == "fileChange"]
    assert change.status.value == "completed"

    recorder.answer = "decline"
    emulator.enqueue(*patch_turn("declined.txt"))
    result = await thread.run("add declined.txt")
    assert len(recorder.asked) == 2 and not (places.workspace / "declined.txt").exists()
    (change,) = [i.root for i in result.items if i.root.type == "fileChange"]
    assert change.status.value == "declined"
    assert outputs_sent(emulator)[-1] == "patch not applied: the user declined this patch"
