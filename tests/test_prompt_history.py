"""The history the model is shown: every call answered, no orphan output (the API refuses both)."""

from __future__ import annotations

from codex_engine.core.prompt_history import ABORTED_OUTPUT, prompt_items
from codex_engine.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    DeliveredToolOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
    item_to_json,
    parse_item,
    user_message,
)


def call(call_id: str) -> FunctionCall:
    return FunctionCall(call_id=call_id, name="shell", arguments="{}")


def output(call_id: str, text: str = "ok") -> FunctionCallOutput:
    return FunctionCallOutput(call_id=call_id, output=text)


def shape(items: list[ResponseItem]) -> list[tuple[str, str | None, object]]:
    wire = [item_to_json(i) for i in items]
    return [(w["type"], w.get("call_id"), w.get("output")) for w in wire]


def test_a_complete_history_is_unchanged() -> None:
    history: list[ResponseItem] = [user_message("hi"), call("a"), output("a"), call("b")]
    history.append(output("b"))
    assert prompt_items(history) == history


def test_an_unanswered_call_is_answered_aborted_right_after_it() -> None:
    history: list[ResponseItem] = [user_message("run"), call("a"), user_message("again")]
    assert shape(prompt_items(history)) == [
        ("message", None, None),
        ("function_call", "a", None),
        ("function_call_output", "a", ABORTED_OUTPUT),
        ("message", None, None),
    ]


def test_parallel_calls_answered_later_get_no_synthetic_output() -> None:
    history: list[ResponseItem] = [call("a"), call("b"), output("a"), output("b")]
    assert prompt_items(history) == history


def test_an_orphan_output_is_left_out() -> None:
    history: list[ResponseItem] = [user_message("hi"), output("gone"), call("a"), output("a")]
    assert shape(prompt_items(history)) == [
        ("message", None, None),
        ("function_call", "a", None),
        ("function_call_output", "a", "ok"),
    ]


def test_the_history_itself_is_not_changed() -> None:
    history: list[ResponseItem] = [call("a")]
    prompt_items(history)
    assert history == [call("a")]


def test_a_delivered_tool_output_answers_no_call_and_is_kept() -> None:
    delivered = parse_item({"type": "function_call_output", "name": "notify", "output": "done"})
    assert isinstance(delivered, DeliveredToolOutput)
    history: list[ResponseItem] = [delivered, call("a"), output("a")]
    assert prompt_items(history) == history
    assert item_to_json(delivered) == {
        "type": "function_call_output",
        "name": "notify",
        "output": "done",
    }


def test_an_unanswered_custom_tool_call_is_answered_aborted_in_its_own_kind() -> None:
    patch = CustomToolCall(call_id="p", name="apply_patch", input="*** Begin Patch\n")
    history: list[ResponseItem] = [user_message("edit"), patch, call("a"), output("a")]
    assert shape(prompt_items(history)) == [
        ("message", None, None),
        ("custom_tool_call", "p", None),
        ("custom_tool_call_output", "p", ABORTED_OUTPUT),
        ("function_call", "a", None),
        ("function_call_output", "a", "ok"),
    ]


def test_a_custom_output_answers_only_a_custom_call() -> None:
    answered = CustomToolCallOutput(call_id="p", output="done")
    orphan_kind = CustomToolCallOutput(call_id="a", output="wrong kind")
    history: list[ResponseItem] = [
        CustomToolCall(call_id="p", name="apply_patch", input="x"),
        answered,
        call("a"),
        orphan_kind,
    ]
    assert shape(prompt_items(history)) == [
        ("custom_tool_call", "p", None),
        ("custom_tool_call_output", "p", "done"),
        ("function_call", "a", None),
        ("function_call_output", "a", ABORTED_OUTPUT),
    ]
    # Both kinds round-trip through their wire JSON.
    for item in history:
        assert parse_item(item_to_json(item)) == item
