"""Helpers of the library-API session tests: settings, one turn, what the model was sent, and an
approver that records what it was asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_engine.config.catalog import find_model_info
from codex_engine.core.events import TurnEvent
from codex_engine.core.sandbox import SandboxSupport
from codex_engine.core.session import ApprovalRequest, Session, SessionDeps, SessionSettings
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import make_client

#: As on a machine without bubblewrap: commands outside danger-full-access need approval.
NO_SANDBOX = SandboxSupport(available=False, reason="disabled for this test")


def settings(cwd: Path, **overrides: Any) -> SessionSettings:
    info, _ = find_model_info("gpt-5.1-codex")
    values: dict[str, Any] = {
        "cwd": cwd,
        "model_info": info,
        "base_instructions": "You are a test agent.",
        "approval_policy": "never",
        "sandbox_mode": "danger-full-access",
    }
    values.update(overrides)
    return SessionSettings(**values)


async def run(session: Session, text: str) -> list[TurnEvent]:
    return [event async for event in session.run_turn(text)]


async def one_turn(
    emulator: ResponsesEmulator, session_settings: SessionSettings, text: str, **deps: Any
) -> list[TurnEvent]:
    """A new session against the emulator (``deps`` go to SessionDeps) and one turn of it."""
    async with make_client(emulator.base_url) as client:
        return await run(Session(session_settings, SessionDeps(client, **deps)), text)


def outputs_sent(emulator: ResponsesEmulator) -> list[str]:
    found = []
    for request in emulator.requests_of("http"):
        for item in request.body["input"]:
            if item.get("type") == "function_call_output":
                found.append(item["output"])
    return found


class RecordingApprover:
    """Answers every approval request with ``answer`` and keeps the requests."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[ApprovalRequest] = []

    async def __call__(self, request: ApprovalRequest) -> bool:
        self.asked.append(request)
        return self.answer
