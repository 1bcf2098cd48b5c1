"""decode_stream_message (the transports' hot path) gives what ``json.loads`` then
parse_stream_payload give, for every message, well-formed or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_engine.protocol.event_tags import payload_kind
from codex_engine.protocol.events import (
    Completed,
    Created,
    OutputItemDone,
    OutputTextDelta,
    ServerModel,
    StreamFailure,
    TokenUsage,
    decode_stream_message,
    parse_stream_payload,
)
from codex_engine.protocol.items import Message

KINDS = [
    "response.output_text.delta",
    "response.output_item.added",
    "response.output_item.done",
    "response.created",
    "response.completed",
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
    "response.reasoning_summary_part.added",
    "response.failed",
    "response.incomplete",
    "codex.rate_limits",
    "response.in_progress",
    "response.function_call_arguments.delta",
    "error",
    "",
]
ITEM = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}


def reference(data: str) -> tuple[str, Any]:
    payload = json.loads(data)
    return payload_kind(payload), parse_stream_payload(payload)


def comparable(result: tuple[str, Any]) -> tuple[str, Any]:
    kind, event = result
    if isinstance(event, StreamFailure):  # errors compare by identity: compare what they say
        return kind, (type(event.error), str(event.error))
    return kind, event


def same_as_reference(data: str) -> None:
    assert comparable(decode_stream_message(data)) == comparable(reference(data))
    assert comparable(decode_stream_message(data.encode())) == comparable(reference(data))


CASES = [
    '{"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":"hé","x":[1]}',
    '{"type":"response.output_text.delta","delta":5}',
    '{"type":"response.output_text.delta","delta":"d","item_id":7,"output_index":true}',
    '{"type":"response.output_text.delta","delta":"d","output_index":1.0}',
    '{"type":"response.output_text.delta","delta":"d","output_index":123456789012345678901234}',
    '{"type":"response.output_text.delta","delta":"d","x":NaN}',
    '{"type":"response.output_text.delta","delta":"\\ud800"}',
    '{"type":"response.output_text.delta","type":"response.in_progress","delta":"d"}',
    json.dumps({"type": "response.output_item.done", "output_index": 0, "item": ITEM}),
    json.dumps({"type": "response.output_item.added", "item": {"type": "future", "a": 1}}),
    json.dumps({"type": "response.output_item.done", "item": {"type": "message"}}),
    json.dumps({"type": "response.output_item.done", "item": [1]}),
    '{"type":"response.output_item.done"}',
    '{"type":"response.created","response":{"id":"r1","output":[{"big":[1,2,3]}]}}',
    '{"type":"response.created","response":{"id":"r1","headers":{"OpenAI-Model":" gpt-x "}}}',
    '{"type":"response.created","response":{"id":5,"headers":[1]}}',
    '{"type":"response.created","response":null}',
    '{"type":"response.created","response":[1]}',
    '{"type":"response.created"}',
    json.dumps(
        {
            "type": "response.completed",
            "response": {
                "id": "r2",
                "output": [ITEM],
                "usage": {
                    "input_tokens": 10,
                    "input_tokens_details": {"cached_tokens": 4},
                    "output_tokens": 3,
                    "output_tokens_details": {"reasoning_tokens": 1},
                    "total_tokens": 13,
                },
            },
        }
    ),
    '{"type":"response.completed","response":{"usage":"x"}}',
    '{"type":"response.reasoning_summary_text.delta","delta":"s","summary_index":1,"item_id":"r"}',
    '{"type":"response.reasoning_text.delta","delta":"t","content_index":2}',
    '{"type":"response.reasoning_summary_part.added","summary_index":0,"item_id":"r"}',
    '{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}',
    '{"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_tokens"}}}',
    '{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":5}}}',
    '{"type":"response.in_progress","response":{"id":"r"}}',
    '{"type":"error","status":429,"error":{"message":"slow down"}}',
    '{"type":""}',
    '{"type":5}',
    '{"delta":"no type"}',
    "[1,2]",
    '"text"',
    "7",
    "null",
    '  {"type":"response.output_text.delta","delta":"d"}  ',
]


@pytest.mark.parametrize("data", CASES)
def test_every_message_decodes_as_the_general_parser_would(data: str) -> None:
    same_as_reference(data)


def test_the_frequent_events_decode() -> None:
    assert decode_stream_message(CASES[0]) == (
        "response.output_text.delta",
        OutputTextDelta("hé", "m", 0),
    )
    kind, done = decode_stream_message(CASES[8])
    assert kind == "response.output_item.done"
    assert isinstance(done, OutputItemDone) and isinstance(done.item, Message)
    assert decode_stream_message(CASES[13])[1] == Created("r1")
    assert decode_stream_message(CASES[14])[1] == ServerModel("gpt-x")
    assert decode_stream_message(CASES[19])[1] == Completed(
        "r2",
        TokenUsage(
            input_tokens=10,
            cached_input_tokens=4,
            output_tokens=3,
            reasoning_output_tokens=1,
            total_tokens=13,
        ),
    )


@pytest.mark.parametrize("data", ["", "{", "data: x", '{"type":"a"} trailing', "[DONE]"])
def test_what_is_not_json_raises_value_error(data: str) -> None:
    with pytest.raises(ValueError):
        json.loads(data)
    with pytest.raises(ValueError):
        decode_stream_message(data)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_MEMBERS = st.sampled_from(
    [
        "delta",
        "item_id",
        "output_index",
        "summary_index",
        "content_index",
        "item",
        "response",
        "sequence_number",
    ]
)
_RESPONSE = st.fixed_dictionaries(
    {},
    optional={"id": _JSON, "usage": _JSON, "headers": _JSON, "output": _JSON, "error": _JSON},
)
_VALUES = _JSON | _RESPONSE | st.just(ITEM) | st.text()


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS) | st.text() | _JSON,
    members=st.dictionaries(_MEMBERS, _VALUES, max_size=5),
)
def test_any_message_decodes_as_the_general_parser_would(
    kind: Any, members: dict[str, Any]
) -> None:
    same_as_reference(json.dumps({"type": kind, **members}))
