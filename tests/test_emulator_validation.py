"""The emulator's request validation as a table: each rule, one request the API accepts and one it
refuses, with the error the API gives (message, param, code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from codex_engine.emulator.validation import (
    Conversation,
    Problem,
    continue_conversation,
    first_problem,
    validate_request,
)

MODEL = "gpt-5.1-codex"


def body(*items: Any, **fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "input": list(items), **fields}


def user(text: str = "hi") -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def call(call_id: str = "call_1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "function_call",
        "call_id": call_id,
        "name": "shell",
        "arguments": "{}",
        **extra,
    }


def output(call_id: str = "call_1", value: Any = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": value}


def custom_call(call_id: str = "ct_1") -> dict[str, Any]:
    return {"type": "custom_tool_call", "call_id": call_id, "name": "apply_patch", "input": "x"}


def custom_output(call_id: str = "ct_1") -> dict[str, Any]:
    return {"type": "custom_tool_call_output", "call_id": call_id, "output": "done"}


def function_tool(**fields: Any) -> dict[str, Any]:
    return {"type": "function", "name": "shell", "parameters": {"type": "object"}, **fields}


@dataclass(frozen=True)
class Rule:
    accepted: Any
    refused: Any
    message: str
    param: str | None
    code: str | None


RULES: dict[str, Rule] = {
    "body is an object": Rule(
        body(user()), ["not", "an", "object"], "The request body must be a JSON object.", None, None
    ),
    "model is required": Rule(
        body(user()),
        {"input": [user()]},
        "Missing required parameter: 'model'.",
        "model",
        "missing_required_parameter",
    ),
    "input is required": Rule(
        body(user()),
        {"model": MODEL},
        "Missing required parameter: 'input'.",
        "input",
        "missing_required_parameter",
    ),
    "input is a string or an array": Rule(
        {"model": MODEL, "input": "hello"},
        {"model": MODEL, "input": 42},
        "Invalid type for 'input': expected a string or an array, but got an integer instead.",
        "input",
        "invalid_type",
    ),
    "an item is an object": Rule(
        body(user()),
        body("hi"),
        "Invalid type for 'input[0]': expected an object, but got a string instead.",
        "input[0]",
        "invalid_type",
    ),
    "item types are the API's": Rule(
        body(user(), {"type": "reasoning", "summary": []}),
        body(user(), {"type": "fancy_item"}),
        "Invalid value: 'fancy_item'. Supported values are: ",
        "input[1].type",
        "invalid_value",
    ),
    "an untyped item with a role is a message": Rule(
        body({"role": "user", "content": "hi"}),
        body({"content": "hi"}),
        "Missing required parameter: 'input[0].type'.",
        "input[0].type",
        "missing_required_parameter",
    ),
    "message roles": Rule(
        body({"type": "message", "role": "developer", "content": "be brief"}),
        body({"type": "message", "role": "tool", "content": "x"}),
        "Invalid value: 'tool'. Supported values are: 'user', 'assistant', 'system', and "
        "'developer'.",
        "input[0].role",
        "invalid_value",
    ),
    "a message has content": Rule(
        body(user()),
        body({"type": "message", "role": "user"}),
        "Missing required parameter: 'input[0].content'.",
        "input[0].content",
        "missing_required_parameter",
    ),
    "user content is input parts": Rule(
        body(
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": "data:x"}],
            }
        ),
        body(
            {"type": "message", "role": "user", "content": [{"type": "output_text", "text": "x"}]}
        ),
        "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and "
        "'input_file'.",
        "input[0].content[0].type",
        "invalid_value",
    ),
    "assistant content is output parts": Rule(
        body(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "x", "annotations": []}],
            }
        ),
        body(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "input_text", "text": "x"}],
            }
        ),
        "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
        "input[0].content[0].type",
        "invalid_value",
    ),
    "a text part has text": Rule(
        body(user("x")),
        body({"type": "message", "role": "user", "content": [{"type": "input_text"}]}),
        "Missing required parameter: 'input[0].content[0].text'.",
        "input[0].content[0].text",
        "missing_required_parameter",
    ),
    "unknown item fields are refused": Rule(
        body({**user(), "id": "msg_1", "status": "completed"}),
        body({**user(), "turn_id": "t1"}),
        "Unknown parameter: 'input[0].turn_id'.",
        "input[0].turn_id",
        "unknown_parameter",
    ),
    "a function_call has a call_id": Rule(
        body(user(), call(), output()),
        body(user(), {"type": "function_call", "name": "shell", "arguments": "{}"}),
        "Missing required parameter: 'input[1].call_id'.",
        "input[1].call_id",
        "missing_required_parameter",
    ),
    "function_call arguments are a string": Rule(
        body(call(arguments="{}"), output()),
        body(call(arguments={"cmd": "ls"}), output()),
        "Invalid type for 'input[0].arguments': expected a string, but got an object instead.",
        "input[0].arguments",
        "invalid_type",
    ),
    "a function_call_output has an output": Rule(
        body(call(), output(value=[{"type": "input_text", "text": "ok"}])),
        body(call(), {"type": "function_call_output", "call_id": "call_1"}),
        "Missing required parameter: 'input[1].output'.",
        "input[1].output",
        "missing_required_parameter",
    ),
    "a function_call_output is text or input parts": Rule(
        body(call(), output(value="ok")),
        body(call(), output(value={"output": "ok"})),
        "Invalid type for 'input[1].output': expected an array, but got an object instead.",
        "input[1].output",
        "invalid_type",
    ),
    "a custom_tool_call has an input": Rule(
        body(custom_call(), custom_output()),
        body({**custom_call(), "input": None}, custom_output()),
        "Invalid type for 'input[0].input': expected a string, but got null instead.",
        "input[0].input",
        "invalid_type",
    ),
    "reasoning has a summary of summary_text parts": Rule(
        body(
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "t"}],
                "encrypted_content": "e",
            }
        ),
        body({"type": "reasoning", "encrypted_content": "e"}),
        "Missing required parameter: 'input[0].summary'.",
        "input[0].summary",
        "missing_required_parameter",
    ),
    "a web search action is search, open_page or find_in_page": Rule(
        body(
            {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "search", "query": "q"},
            }
        ),
        body(
            {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "other"},
            }
        ),
        "Invalid value: 'other'. Supported values are: 'search', 'open_page', and 'find_in_page'.",
        "input[0].action.type",
        "invalid_value",
    ),
    "a local_shell_call has an action": Rule(
        body(
            {
                "type": "local_shell_call",
                "call_id": "ls_1",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"], "env": {}},
            },
            output("ls_1"),
        ),
        body(
            {"type": "local_shell_call", "call_id": "ls_1", "status": "completed"}, output("ls_1")
        ),
        "Missing required parameter: 'input[0].action'.",
        "input[0].action",
        "missing_required_parameter",
    ),
    "a compaction item carries its encrypted content": Rule(
        body({"type": "compaction", "encrypted_content": "opaque"}, user()),
        body({"type": "compaction"}, user()),
        "Missing required parameter: 'input[0].encrypted_content'.",
        "input[0].encrypted_content",
        "missing_required_parameter",
    ),
    "tools is an array": Rule(
        body(user(), tools=[function_tool()]),
        body(user(), tools="not-a-list"),
        "Invalid type for 'tools': expected an array of objects, but got a string instead.",
        "tools",
        "invalid_type",
    ),
    "tool types are the API's": Rule(
        body(user(), tools=[{"type": "local_shell"}, {"type": "web_search_preview"}]),
        body(user(), tools=[{"type": "shell_command"}]),
        "Invalid value: 'shell_command'. Supported values are: ",
        "tools[0].type",
        "invalid_value",
    ),
    "a function tool has a name": Rule(
        body(user(), tools=[function_tool()]),
        body(user(), tools=[{"type": "function", "parameters": {"type": "object"}}]),
        "Missing required parameter: 'tools[0].name'.",
        "tools[0].name",
        "missing_required_parameter",
    ),
    "tool names are letters, digits, _ and -": Rule(
        body(user(), tools=[function_tool(name="mcp__server__read-file")]),
        body(user(), tools=[function_tool(name="read file")]),
        "Invalid 'tools[0].name': string does not match pattern. Expected a string that matches "
        "the pattern '^[a-zA-Z0-9_-]+$'.",
        "tools[0].name",
        "invalid_value",
    ),
    "function parameters are an object schema": Rule(
        body(user(), tools=[function_tool(parameters={"type": "object", "properties": {}})]),
        body(user(), tools=[function_tool(parameters={"type": "array"})]),
        "Invalid schema for function 'shell': schema must be a JSON Schema of 'type: \"object\"', "
        "got 'type: \"array\"'.",
        "tools",
        "invalid_function_parameters",
    ),
    "unknown tool fields are refused": Rule(
        body(user(), tools=[function_tool(strict=False, description="Runs a command.")]),
        body(user(), tools=[function_tool(function={"name": "shell"})]),
        "Unknown parameter: 'tools[0].function'.",
        "tools[0].function",
        "unknown_parameter",
    ),
    "a custom tool has a name": Rule(
        body(user(), tools=[{"type": "custom", "name": "apply_patch", "format": {"type": "text"}}]),
        body(user(), tools=[{"type": "custom"}]),
        "Missing required parameter: 'tools[0].name'.",
        "tools[0].name",
        "missing_required_parameter",
    ),
    "a namespace tool describes itself": Rule(
        body(
            user(),
            tools=[
                {
                    "type": "namespace",
                    "name": "agents",
                    "description": "d",
                    "tools": [function_tool()],
                }
            ],
        ),
        body(user(), tools=[{"type": "namespace", "name": "agents", "tools": [function_tool()]}]),
        "Missing required parameter: 'tools[0].description'.",
        "tools[0].description",
        "missing_required_parameter",
    ),
    "web search access is a boolean": Rule(
        body(user(), tools=[{"type": "web_search", "external_web_access": False}]),
        body(user(), tools=[{"type": "web_search", "external_web_access": "cached"}]),
        "Invalid type for 'tools[0].external_web_access': expected a boolean, but got a string "
        "instead.",
        "tools[0].external_web_access",
        "invalid_type",
    ),
    "tool_choice is auto, none, required or an object": Rule(
        body(user(), tool_choice="auto"),
        body(user(), tool_choice="always"),
        "Invalid value: 'always'. Supported values are: 'auto', 'none', and 'required'.",
        "tool_choice",
        "invalid_value",
    ),
    "unknown top-level parameters are refused": Rule(
        body(user(), client_metadata={"session_id": "s"}, prompt_cache_key="k"),
        body(user(), temperature_celsius=20),
        "Unknown parameter: 'temperature_celsius'.",
        "temperature_celsius",
        "unknown_parameter",
    ),
    "store is a boolean": Rule(
        body(user(), store=False),
        body(user(), store="no"),
        "Invalid type for 'store': expected a boolean, but got a string instead.",
        "store",
        "invalid_type",
    ),
    "a function_call_output answers a function_call": Rule(
        body(user(), call("call_1"), output("call_1")),
        body(user(), output("call_9")),
        "No tool call found for function call output with call_id call_9.",
        "input",
        None,
    ),
    "the call comes before its output": Rule(
        body(call("call_1"), output("call_1")),
        body(output("call_1"), call("call_1")),
        "No tool call found for function call output with call_id call_1.",
        "input",
        None,
    ),
    "a function_call_output may answer a local_shell_call": Rule(
        body(
            {
                "type": "local_shell_call",
                "call_id": "ls_1",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"], "env": {}},
            },
            output("ls_1"),
        ),
        body(
            {
                "type": "local_shell_call",
                "call_id": "ls_1",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"], "env": {}},
            },
            custom_output("ls_1"),
        ),
        "No tool call found for custom tool call output with call_id ls_1.",
        "input",
        None,
    ),
    "a custom_tool_call_output answers a custom_tool_call": Rule(
        body(custom_call("ct_1"), custom_output("ct_1")),
        body(call("ct_1"), output("ct_1"), custom_output("ct_1")),
        "No tool call found for custom tool call output with call_id ct_1.",
        "input",
        None,
    ),
    "every function_call is answered": Rule(
        body(user(), call("call_1"), output("call_1"), user("next")),
        body(user(), call("call_1"), user("next")),
        "No tool output found for function call call_1.",
        "input",
        None,
    ),
    "a delivered tool output names its tool instead of a call_id": Rule(
        body({"type": "function_call_output", "name": "notify", "namespace": "ci", "output": "ok"}),
        body({"type": "function_call_output", "output": "ok"}),
        "Missing required parameter: 'input[0].call_id'.",
        "input[0].call_id",
        "missing_required_parameter",
    ),
    "every custom_tool_call is answered": Rule(
        body(custom_call("ct_1"), custom_output("ct_1")),
        body(custom_call("ct_1")),
        "No tool output found for custom tool call ct_1.",
        "input",
        None,
    ),
}


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_each_rule_accepts_one_request_and_refuses_another(rule: Rule) -> None:
    assert validate_request(rule.accepted) == []
    problem = first_problem(rule.refused)
    assert problem is not None
    assert problem.message.startswith(rule.message), problem.message
    assert (problem.param, problem.code) == (rule.param, rule.code)
    assert problem.error() == {
        "message": problem.message,
        "type": "invalid_request_error",
        "param": rule.param,
        "code": rule.code,
    }


# --- previous_response_id -----------------------------------------------------------------------


def remembered(**responses: Conversation) -> Any:
    return responses.get


def test_previous_response_id_must_be_known() -> None:
    known = remembered(resp_1=Conversation())
    assert validate_request(body(user(), previous_response_id="resp_1"), previous=known) == []
    problem = first_problem(body(user(), previous_response_id="resp_2"), previous=known)
    assert problem == Problem(
        "Previous response with id 'resp_2' not found.",
        "previous_response_id",
        "previous_response_not_found",
    )
    # Without a memory of responses (a fresh connection) no id is known.
    assert first_problem(body(user(), previous_response_id="resp_1")) is not None


def test_a_continuation_answers_the_calls_of_the_previous_response() -> None:
    first = body(user("run ls"))
    after_first = continue_conversation(first, [call("call_7")], None)
    known = remembered(resp_1=after_first)

    answered = body(output("call_7"), previous_response_id="resp_1")
    assert validate_request(answered, previous=known) == []
    unanswered = body(user("never mind"), previous_response_id="resp_1")
    assert first_problem(unanswered, previous=known) == Problem(
        "No tool output found for function call call_7.", "input"
    )
    orphan = body(output("call_7"), output("call_8"), previous_response_id="resp_1")
    assert first_problem(orphan, previous=known) == Problem(
        "No tool call found for function call output with call_id call_8.", "input"
    )


def test_a_chain_remembers_every_call_before_it() -> None:
    first = continue_conversation(body(user()), [call("call_1")], None)
    second_body = body(output("call_1"), previous_response_id="resp_1")
    second = continue_conversation(second_body, [{"type": "message", "role": "assistant"}], first)
    assert second.calls == {"call_1": "function_call"}
    assert second.awaiting == ()


def test_every_problem_is_listed_not_only_the_first() -> None:
    problems = validate_request(body(output("a"), output("b"), call("c")))
    assert [p.message for p in problems] == [
        "No tool call found for function call output with call_id a.",
        "No tool call found for function call output with call_id b.",
        "No tool output found for function call c.",
    ]
