"""Tool dispatch: the tools a session offers, in order, and each call carried out by the toolset
that handles its name (an extra toolset comes in through ``SessionDeps.toolsets``)."""

from __future__ import annotations

import json
from pathlib import Path

from codex_engine.core.events import TurnCompleted, WarningEvent
from codex_engine.core.session import Session, SessionDeps
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput
from tests.conftest import make_client
from tests.session_support import outputs_sent, run, settings

_LOOKUP = {
    "type": "function",
    "name": "lookup",
    "description": "Looks a word up.",
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {"word": {"type": "string"}},
        "required": ["word"],
        "additionalProperties": False,
    },
}


class Lookup:
    """A toolset of one tool that answers from a table."""

    def __init__(self) -> None:
        self.calls: list[FunctionCall] = []

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [_LOOKUP]

    def handles(self, name: str) -> bool:
        return name == "lookup"

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        self.calls.append(call)
        ctx.emit(WarningEvent("looked it up"))
        word = json.loads(call.arguments)["word"]
        return FunctionCallOutput(call_id=call.call_id, output=f"{word}: a small bird")


async def test_an_extra_toolset_is_offered_and_gets_the_calls_named_for_it(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    lookup = Lookup()
    emulator.enqueue(Reply.function_call("lookup", {"word": "wren"}, call_id="call_w"))
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client, toolsets=(lookup,)))
        events = await run(session, "what is a wren?")
    offered = emulator.requests_of("http")[0].body["tools"]
    # gpt-5.1-codex also gets apply_patch (freeform) and view_image (image input) built in, and
    # request_user_input after the command tool (as 0.163).
    assert [tool.get("name", tool["type"]) for tool in offered] == [
        "exec_command",
        "write_stdin",
        "request_user_input",
        "web_search",
        "apply_patch",
        "view_image",
        "lookup",
    ]
    assert [call.call_id for call in lookup.calls] == ["call_w"]
    assert WarningEvent("looked it up") in events
    assert outputs_sent(emulator) == ["wren: a small bird"]
    assert isinstance(events[-1], TurnCompleted)


async def test_a_call_no_toolset_handles_is_told_to_the_model(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    emulator.enqueue(Reply.function_call("teleport", {"to": "mars"}))
    async with make_client(emulator.base_url) as client:
        session = Session(settings(tmp_path), SessionDeps(client))
        events = await run(session, "go to mars")
    assert outputs_sent(emulator) == ["unsupported tool 'teleport'; use `exec_command`"]
    assert isinstance(events[-1], TurnCompleted)
