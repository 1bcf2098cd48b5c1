"""Who decides on commands that need approval, and what an automatic reviewer never approves."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import get_args

import pytest

from codex_engine.config.loader import SandboxMode
from codex_engine.core.approvals import (
    APPROVALS_REVIEWERS,
    AutoReview,
    automatic_decision,
    is_automatic_reviewer,
)
from codex_engine.core.events import CommandFinished, CommandRejected, TurnCompleted
from codex_engine.core.sandbox import SandboxSupport
from codex_engine.core.session import Session, SessionDeps
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import make_client
from tests.session_support import (
    NO_SANDBOX,
    RecordingApprover,
    one_turn,
    outputs_sent,
    run,
    settings,
)

MODES: tuple[SandboxMode, ...] = get_args(SandboxMode)
SCHEMA = Path("/work/shared/reference/app-server-schema/v2/ThreadStartParams.json")


def test_reviewers_are_the_app_server_schema_values() -> None:
    assert APPROVALS_REVIEWERS == ("user", "auto_review", "guardian_subagent")
    if SCHEMA.exists():
        enum = json.loads(SCHEMA.read_text())["definitions"]["ApprovalsReviewer"]["enum"]
        assert set(enum) == set(APPROVALS_REVIEWERS)


# (reviewer, sandboxed, mode) -> None (the user decides), True (approved) or False (declined).
EXPECTED: dict[tuple[str, bool, SandboxMode], bool | None] = {}
for reviewer, sandboxed, mode in itertools.product(
    APPROVALS_REVIEWERS, (False, True), ("read-only", "workspace-write", "danger-full-access")
):
    if reviewer == "user":
        EXPECTED[reviewer, sandboxed, mode] = None
    else:
        EXPECTED[reviewer, sandboxed, mode] = sandboxed or mode == "danger-full-access"


def test_the_table_covers_every_combination() -> None:
    assert len(EXPECTED) == len(APPROVALS_REVIEWERS) * 2 * len(MODES)


@pytest.mark.parametrize(("reviewer", "sandboxed", "mode"), list(EXPECTED))
def test_an_automatic_reviewer_approves_only_what_the_sandbox_contains(
    reviewer: str, sandboxed: bool, mode: SandboxMode
) -> None:
    decision = automatic_decision(reviewer, sandboxed=sandboxed, sandbox_mode=mode)
    expected = EXPECTED[reviewer, sandboxed, mode]
    if expected is None:
        assert decision is None
        return
    assert isinstance(decision, AutoReview)
    assert decision.approved is expected
    if expected:
        assert decision.reason is None
    else:
        assert decision.reason is not None and "\n" not in decision.reason
        assert "declined" in decision.reason and repr(mode) in decision.reason
        assert "approvalsReviewer 'user'" in decision.reason and "bubblewrap" in decision.reason


def test_an_unknown_reviewer_is_treated_as_automatic() -> None:
    assert is_automatic_reviewer("something-new")
    assert not is_automatic_reviewer("user")
    decision = automatic_decision("something-new", sandboxed=False, sandbox_mode="read-only")
    assert decision is not None and not decision.approved


async def test_automatic_reviewer_declines_an_unconfined_command_and_the_model_is_told(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    approve_everything = RecordingApprover(True)
    target = tmp_path / "written"
    events = await one_turn(
        emulator,
        settings(tmp_path, sandbox_mode="workspace-write", approval_policy="on-request"),
        f"run `touch {target}`",
        approver=approve_everything,
        sandbox=NO_SANDBOX,
        approvals_reviewer="auto_review",
    )
    assert not approve_everything.asked  # the engine decided, not the accept-everything client
    assert not target.exists()
    rejected = [e for e in events if isinstance(e, CommandRejected)]
    assert len(rejected) == 1 and not rejected[0].declined_by_user
    assert outputs_sent(emulator)[-1].startswith(
        "command not run: the automatic approval reviewer declined it"
    )
    assert isinstance(events[-1], TurnCompleted)


async def test_the_user_reviewer_is_asked_with_the_sandbox_facts(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    deny = RecordingApprover(False)
    async with make_client(emulator.base_url) as client:
        session = Session(
            settings(tmp_path, sandbox_mode="workspace-write", approval_policy="on-request"),
            SessionDeps(client, approver=deny, sandbox=NO_SANDBOX),
        )
        assert session.approvals_reviewer == "user"
        await run(session, "run `touch x`")
    assert len(deny.asked) == 1
    assert deny.asked[0].sandboxed is False and deny.asked[0].sandbox_mode == "workspace-write"


@pytest.fixture
def pass_through_bwrap(tmp_path: Path) -> Path:
    """A stand-in for bubblewrap that runs the command after ``--`` unconfined."""
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    fake.chmod(0o755)
    return fake


async def test_automatic_reviewer_approves_a_command_the_sandbox_confines(
    emulator: ResponsesEmulator, tmp_path: Path, pass_through_bwrap: Path
) -> None:
    async with make_client(emulator.base_url) as client:
        session = Session(
            settings(tmp_path, sandbox_mode="workspace-write", approval_policy="untrusted"),
            SessionDeps(
                client,
                sandbox=SandboxSupport(available=True, bwrap=str(pass_through_bwrap)),
                approvals_reviewer="auto_review",
            ),
        )
        events = await run(session, "run `echo confined-run`")
    finished = [e for e in events if isinstance(e, CommandFinished)]
    assert finished and finished[0].output == "confined-run\n"


async def test_automatic_reviewer_approves_under_danger_full_access(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    target = tmp_path / "made"
    await one_turn(
        emulator,
        settings(tmp_path, sandbox_mode="danger-full-access", approval_policy="untrusted"),
        f"run `touch {target}`",
        approvals_reviewer="guardian_subagent",
    )
    assert target.exists()


async def test_a_reviewer_change_applies_to_the_next_command(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    approve = RecordingApprover(True)
    async with make_client(emulator.base_url) as client:
        session = Session(
            settings(tmp_path, sandbox_mode="read-only", approval_policy="on-request"),
            SessionDeps(client, approver=approve, sandbox=NO_SANDBOX),
        )
        session.approvals_reviewer = "auto_review"
        await run(session, f"run `touch {tmp_path / 'a'}`")
        assert not approve.asked and not (tmp_path / "a").exists()
        session.approvals_reviewer = "user"
        await run(session, f"run `touch {tmp_path / 'b'}`")
    assert len(approve.asked) == 1 and (tmp_path / "b").exists()
