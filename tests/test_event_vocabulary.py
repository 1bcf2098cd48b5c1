"""One event vocabulary: the client emits the core's types, and every renderer handles each one.

Each renderer ``match``es on the event and ends in ``assert_never`` (mypy checks it is
exhaustive); feeding one instance of every :data:`TurnEvent` type proves it at run time too.
"""

from __future__ import annotations

import io
import json
import typing

import pytest

import codex_engine
from codex_engine.app_server.projector import TurnProjector
from codex_engine.cli.render import HumanRenderer, JsonRenderer
from codex_engine.client.events import ClientEvent
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    ContextCompacted,
    EnteredReviewMode,
    ExitedReviewMode,
    FileChange,
    ImageViewed,
    ItemCompleted,
    ItemStarted,
    McpToolCallFinished,
    McpToolCallStarted,
    ModelRerouted,
    PatchFinished,
    PatchStarted,
    PlanStep,
    PlanUpdated,
    RateLimitsUpdated,
    ReasoningDelta,
    ReasoningPartAdded,
    ReasoningTextDelta,
    Retrying,
    TokenCount,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    TurnStarted,
    TurnSummary,
    WarningEvent,
)
from codex_engine.errors import CodexError
from codex_engine.protocol.events import ResponseEvent, TokenUsage
from codex_engine.protocol.items import (
    FunctionCall,
    Reasoning,
    WebSearchCall,
    assistant_text,
    parse_item,
    user_message,
)
from codex_engine.protocol.items import Message as MessageItem
from codex_engine.protocol.rate_limits import RateLimitSnapshot


def _assistant(text: str) -> MessageItem:
    item = parse_item(
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    )
    assert isinstance(item, MessageItem)
    assert assistant_text(item) == text
    return item


def _one_of_each() -> dict[type, list[TurnEvent]]:
    """At least one instance of every TurnEvent type (items: one of each kind a renderer shows)."""
    usage = TokenUsage(input_tokens=3, output_tokens=2, total_tokens=5)
    summary = TurnSummary(usage=usage)
    call = FunctionCall(name="shell", arguments='{"command":["ls"]}', call_id="c1")
    items = [
        _assistant("hi"),
        user_message("question"),
        Reasoning(summary=[{"type": "summary_text", "text": "thinking"}]),
        WebSearchCall(action={"type": "search", "query": "codex"}),
        call,
    ]
    events: list[TurnEvent] = [
        TurnStarted("t1"),
        AgentMessageDelta("hi", "msg_1"),
        ReasoningDelta("thinking", "rs_1", 0),
        ReasoningPartAdded("rs_1", 1),
        ReasoningTextDelta("raw thought", "rs_1", 0),
        ModelRerouted("gpt-5.3-codex", "gpt-5.2"),
        EnteredReviewMode("current changes"),
        ExitedReviewMode("The patch looks correct.", {"findings": []}),
        ExitedReviewMode(None),
        *(ItemStarted(item) for item in items),
        *(ItemCompleted(item) for item in items),
        CommandStarted("c1", ["ls"], "/tmp"),
        CommandOutputDelta("c1", "a\n"),
        CommandFinished("c1", ["ls"], 0, "a\n", 0.1),
        CommandRejected("c2", ["rm", "x"], "not allowed", "/tmp"),
        PatchStarted("p1", (FileChange("/w/a", "add", "hi\n"),)),
        PatchFinished("p1", (FileChange("/w/a", "add", "hi\n"),), "completed", "Success."),
        PatchFinished("p2", (FileChange("/w/b", "update", "@@\n", "/w/c"),), "declined", "no"),
        McpToolCallStarted("m1", "docs", "search", {"q": "codex"}),
        McpToolCallFinished("m1", "docs", "search", {"q": "codex"}, 0.1, {"content": []}),
        McpToolCallStarted("m2", "docs", "write", None),
        McpToolCallFinished("m2", "docs", "write", None, 0.1, error="declined"),
        ImageViewed("v1", "/w/pic.png"),
        PlanUpdated("u1", "first", (PlanStep("read", "in_progress"), PlanStep("fix", "pending"))),
        PlanUpdated("u2", None, (PlanStep("read", "completed"), PlanStep("fix", "completed"))),
        Retrying(1, 5, 0.2, "stream disconnected"),
        RateLimitsUpdated(RateLimitSnapshot()),
        TokenCount(usage, usage),
        ContextCompacted("summary", automatic=True),
        WarningEvent("careful"),
        TurnCompleted("t1", "hi", summary),
        TurnFailed("t1", CodexError("boom"), summary),
        TurnInterrupted("t1", summary),
    ]
    by_type: dict[type, list[TurnEvent]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    return by_type


def test_the_samples_cover_the_whole_turn_event_union() -> None:
    assert set(_one_of_each()) == set(typing.get_args(TurnEvent))


def test_the_client_emits_turn_events_besides_the_model_stream() -> None:
    own = set(typing.get_args(ClientEvent)) - set(typing.get_args(ResponseEvent))
    assert own == {Retrying, WarningEvent}
    assert own <= set(typing.get_args(TurnEvent))


@pytest.mark.parametrize("stream", [True, False], ids=["terminal", "pipe"])
def test_the_exec_text_renderer_handles_every_event(stream: bool) -> None:
    renderer = HumanRenderer(io.StringIO(), io.StringIO(), stream=stream)
    for events in _one_of_each().values():
        for event in events:
            renderer.event(event)


def test_the_exec_json_renderer_handles_every_event() -> None:
    out = io.StringIO()
    renderer = JsonRenderer(out)
    for events in _one_of_each().values():
        for event in events:
            renderer.event(event)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    # A warning is a completed `error` item, as the reference reports one; every line has one of
    # the reference's event types, so a strict consumer accepts the whole stream.
    assert any(e["type"] == "item.completed" and e["item"]["type"] == "error" for e in lines)
    reference_types = {"thread.started", "turn.started", "turn.completed", "turn.failed"} | {
        "item.started", "item.updated", "item.completed", "error"
    }  # fmt: skip
    assert {e["type"] for e in lines} <= reference_types


def test_the_app_server_projector_handles_every_event() -> None:
    projector = TurnProjector("th1", "t1", context_window=None, clock_ms=lambda: 0)
    methods: list[str] = []
    for events in _one_of_each().values():
        for event in events:
            methods += [method for method, _params in projector.on_event(event)]
    assert "warning" in methods and "error" in methods
    assert "turn/plan/updated" in methods


def test_warning_is_a_deprecated_alias_of_warning_event() -> None:
    # Not in __all__: `from codex_engine import *` must not shadow the builtin Warning.
    assert "Warning" not in codex_engine.__all__ and "WarningEvent" in codex_engine.__all__
    vars(codex_engine).pop("Warning", None)  # forget an earlier lookup, so this one warns
    with pytest.warns(DeprecationWarning, match="WarningEvent"):
        from codex_engine import Warning as OldWarning
    assert OldWarning is WarningEvent
