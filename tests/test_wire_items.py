"""Responses API items (protocol/items.py): members they do not model round-trip unchanged,
unknown item types are kept verbatim, malformed items raise ItemError naming the member."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from codex_engine.app_server.projector import TurnProjector
from codex_engine.core.events import ItemCompleted
from codex_engine.core.tools.toolset import call_name
from codex_engine.protocol.items import (
    ContentPart,
    CustomToolCall,
    CustomToolCallOutput,
    DeliveredToolOutput,
    FunctionCall,
    FunctionCallOutput,
    ItemError,
    Message,
    Reasoning,
    UnknownItem,
    WebSearchCall,
    assistant_text,
    item_to_json,
    local_image_parts,
    parse_item,
    user_message,
)

# Items as the server sends them and rollouts store them, each with members no class models.
WIRE_ITEMS: list[tuple[type, dict[str, Any]]] = [
    (
        Message,
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "hi", "annotations": [], "logprobs": [{"p": 1}]}
            ],
            "status": "completed",
            "phase": "final_answer",
        },
    ),
    (
        Message,
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "low"},
                {"type": "input_text", "text": "look"},
            ],
        },
    ),
    (
        FunctionCall,
        {
            "type": "function_call",
            "name": "search",
            "arguments": "{}",
            "call_id": "c1",
            "namespace": "mcp__docs",
        },
    ),
    (
        FunctionCallOutput,
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [{"type": "input_text", "text": "found", "note": None}],
        },
    ),
    (
        DeliveredToolOutput,
        {"type": "function_call_output", "name": "lookup", "namespace": "ns", "output": "x"},
    ),
    (
        CustomToolCall,
        {"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin", "call_id": "c2"},
    ),
    (CustomToolCallOutput, {"type": "custom_tool_call_output", "call_id": "c2", "output": "ok"}),
    (
        Reasoning,
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "thinking"}],
            "encrypted_content": "gAAA",
            "status": "completed",
        },
    ),
    (
        WebSearchCall,
        {"type": "web_search_call", "status": "completed", "action": {"type": "search", "q": 1}},
    ),
    (
        UnknownItem,
        {
            "type": "local_shell_call",
            "call_id": "c3",
            "status": "completed",
            "action": {"type": "exec", "command": ["ls"], "env": None},
        },
    ),
    (UnknownItem, {"type": "compaction", "encrypted_content": "gBBB", "extra": 1, "+extra": 2}),
]


@pytest.mark.parametrize(("cls", "wire"), WIRE_ITEMS, ids=lambda v: getattr(v, "__name__", ""))
def test_items_round_trip_unchanged_with_the_members_they_do_not_model(
    cls: type, wire: dict[str, Any]
) -> None:
    original = copy.deepcopy(wire)
    item = parse_item(wire)
    assert type(item) is cls
    assert item_to_json(item) == original
    assert list(item_to_json(item)) == list(original)  # same member order as received
    assert wire == original  # the input is left as it was
    assert parse_item(item_to_json(item)) == item


def test_unknown_members_are_readable_and_count_for_equality() -> None:
    call = parse_item(WIRE_ITEMS[2][1])
    assert isinstance(call, FunctionCall)
    assert call.extra == {"namespace": "mcp__docs"}
    assert call_name(call) == "mcp__docs__search"
    other = parse_item({**WIRE_ITEMS[2][1], "namespace": "mcp__other"})
    assert other != call
    assert parse_item(dict(WIRE_ITEMS[2][1])) == call


def test_none_members_are_left_out_at_the_top_level_of_each_item_and_part() -> None:
    item = parse_item(
        {
            "type": "message",
            "id": None,
            "role": "user",
            "content": [{"type": "input_image", "image_url": "u", "detail": None}],
            "status": None,
            "phase": None,
            "kept": {"inner": None},
        }
    )
    assert item_to_json(item) == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_image", "image_url": "u"}],
        "kept": {"inner": None},
    }


def test_a_function_call_output_without_a_call_id_is_a_delivered_output() -> None:
    answer = parse_item({"type": "function_call_output", "call_id": "c", "output": "o"})
    assert isinstance(answer, FunctionCallOutput)
    for wire in (
        {"type": "function_call_output", "name": "t", "output": "o"},
        {"type": "function_call_output", "call_id": None, "name": "t", "output": "o"},
    ):
        delivered = parse_item(wire)
        assert isinstance(delivered, DeliveredToolOutput)
        assert item_to_json(delivered) == {
            "type": "function_call_output",
            "name": "t",
            "output": "o",
        }


def test_items_are_frozen_and_compare_by_value() -> None:
    item = parse_item(WIRE_ITEMS[0][1])
    with pytest.raises(AttributeError):
        item.id = "other"  # type: ignore[misc]
    assert item == parse_item(copy.deepcopy(WIRE_ITEMS[0][1]))
    assert item != parse_item({**WIRE_ITEMS[0][1], "status": "incomplete"})
    assert parse_item(item) is item
    call = parse_item(WIRE_ITEMS[2][1])
    assert hash(call) == hash(parse_item(dict(WIRE_ITEMS[2][1])))  # hashable, as before
    assert len({call, parse_item(dict(WIRE_ITEMS[2][1]))}) == 1


def test_constructors_and_helpers_keep_their_keywords() -> None:
    message = user_message("hi", attachments=local_image_parts(1, "a.png", "data:x"))
    assert item_to_json(message) == {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": '<image name=[Image #1] path="a.png">'},
            {"type": "input_image", "image_url": "data:x"},
            {"type": "input_text", "text": "</image>"},
            {"type": "input_text", "text": "hi"},
        ],
    }
    said = Message(role="assistant", content=[ContentPart(type="output_text", text="yes")])
    assert assistant_text(said) == "yes" and assistant_text(message) is None
    built = [
        FunctionCall(name="f", arguments="{}", call_id="c"),
        FunctionCallOutput(call_id="c", output="o"),
        CustomToolCall(name="g", input="i", call_id="d"),
        CustomToolCallOutput(call_id="d", output="o"),
        DeliveredToolOutput(name="t", output="o"),
        Reasoning(summary=[{"type": "summary_text", "text": "s"}]),
        WebSearchCall(id="ws"),
        UnknownItem(type="future", extra={"x": 1}),
    ]
    for item in built:
        assert parse_item(item_to_json(item)) == item


MALFORMED = [
    ({"type": "message", "content": []}, "missing required field `role`"),
    ({"type": "message", "role": 1, "content": []}, "Expected `str`, got `int` - at `$.role`"),
    (
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": 5}]},
        "at `$.content[0].text`",
    ),
    (
        {"type": "message", "role": "user", "content": [{"text": "x"}]},
        "missing required field `type` - at `$.content[0]`",
    ),
    ({"type": "function_call", "name": "f", "call_id": "c"}, "field `arguments`"),
    ({"type": "function_call_output", "call_id": "c"}, "missing required field `output`"),
    ({"type": "reasoning", "summary": [1]}, "at `$.summary[0]`"),
    ({"type": 5}, "at `$.type`"),
    ({"no": "type"}, "missing required field `type`"),
    ([1], "Expected `object`, got `array`"),
    (None, "Expected `object`, got `null`"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_items_raise_one_error_type_naming_the_member(data: Any, message: str) -> None:
    with pytest.raises(ItemError) as info:
        parse_item(data)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_the_app_server_shows_the_phase_the_model_gave_its_answer() -> None:
    projector = TurnProjector("th1", "t1", context_window=None, clock_ms=lambda: 0)
    item = parse_item({**WIRE_ITEMS[0][1]})
    notes = dict(projector.on_event(ItemCompleted(item)))
    assert notes["item/completed"]["item"]["phase"] == "final_answer"
