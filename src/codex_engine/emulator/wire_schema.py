"""The shapes the Responses API accepts: input items, content parts and tool definitions.

Pure tables of fields per `type`, and the checks that walk a value against them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Check",
    "Problem",
    "anything",
    "array",
    "boolean",
    "input_items",
    "missing",
    "nullable",
    "object_",
    "one_of",
    "string",
    "tool_choice",
    "tools",
    "unknown",
    "wrong_type",
]

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """One reason to refuse a request, as the API words it."""

    message: str
    param: str | None = None
    code: str | None = None

    def error(self) -> JsonDict:
        """The `error` object of the 400 answer (also the payload of a WebSocket error frame)."""
        return {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": self.code,
        }


# --- the vocabulary ------------------------------------------------------------------------------

Check = Callable[[Any, str], "Problem | None"]  # (value, its param path) -> problem
# field name -> (required, check)
Fields = Mapping[str, tuple[bool, Check]]

_ROLES = ("user", "assistant", "system", "developer")
_STATUSES = ("in_progress", "completed", "incomplete")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Item types the API accepts whose fields the emulator does not check (codex-engine never sends
# them, but a history may carry them from a model that does).
_OPAQUE_ITEMS = frozenset(
    {
        "additional_tools",
        "apply_patch_call",
        "apply_patch_call_output",
        "code_interpreter_call",
        "compaction_trigger",
        "computer_call",
        "computer_call_output",
        "file_search_call",
        "image_generation_call",
        "item_reference",
        "local_shell_call_output",
        "mcp_approval_request",
        "mcp_approval_response",
        "mcp_call",
        "mcp_list_tools",
        "program",
        "program_output",
        "shell_call",
        "shell_call_output",
        "tool_search_call",
        "tool_search_output",
    }
)
_OPAQUE_TOOLS = frozenset(
    {
        "apply_patch",
        "code_interpreter",
        "computer",
        "computer_use_preview",
        "file_search",
        "image_generation",
        "mcp",
        "programmatic_tool_calling",
        "shell",
        "tool_search",
    }
)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def missing(param: str) -> Problem:
    return Problem(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def unknown(param: str) -> Problem:
    return Problem(f"Unknown parameter: '{param}'.", param, "unknown_parameter")


def wrong_type(param: str, expected: str, value: Any) -> Problem:
    return Problem(
        f"Invalid type for '{param}': expected {expected}, but got {_describe(value)} instead.",
        param,
        "invalid_type",
    )


def _bad_value(param: str, value: Any, allowed: Sequence[str]) -> Problem:
    quoted = [f"'{v}'" for v in allowed]
    if len(quoted) <= 2:
        listed = " and ".join(quoted)
    else:
        listed = f"{', '.join(quoted[:-1])}, and {quoted[-1]}"
    return Problem(
        f"Invalid value: '{value}'. Supported values are: {listed}.", param, "invalid_value"
    )


# --- checks for one value ----------------------------------------------------------------------


def string(value: Any, param: str) -> Problem | None:
    return None if isinstance(value, str) else wrong_type(param, "a string", value)


def nullable(check: Check) -> Check:
    def run(value: Any, param: str) -> Problem | None:
        return None if value is None else check(value, param)

    return run


def boolean(value: Any, param: str) -> Problem | None:
    return None if isinstance(value, bool) else wrong_type(param, "a boolean", value)


def object_(value: Any, param: str) -> Problem | None:
    return None if isinstance(value, dict) else wrong_type(param, "an object", value)


def array(value: Any, param: str) -> Problem | None:
    return None if isinstance(value, list) else wrong_type(param, "an array", value)


def anything(value: Any, param: str) -> Problem | None:
    return None


def one_of(*allowed: str) -> Check:
    def run(value: Any, param: str) -> Problem | None:
        if not isinstance(value, str):
            return wrong_type(param, "a string", value)
        return None if value in allowed else _bad_value(param, value, allowed)

    return run


def _fields(obj: Mapping[str, Any], spec: Fields, where: str) -> Problem | None:
    """Every required field present, every field known and well typed (`type` is the caller's)."""
    for name, (required, check) in spec.items():
        if name not in obj:
            if required:
                return missing(f"{where}.{name}")
            continue
        problem = check(obj[name], f"{where}.{name}")
        if problem is not None:
            return problem
    for name in obj:
        if name != "type" and name not in spec:
            return unknown(f"{where}.{name}")
    return None


def _typed(kinds: Mapping[str, Fields]) -> Check:
    """An object whose `type` picks the fields it may carry."""

    def run(value: Any, param: str) -> Problem | None:
        if not isinstance(value, dict):
            return wrong_type(param, "an object", value)
        if "type" not in value:
            return missing(f"{param}.type")
        kind = value["type"]
        if kind not in kinds:
            return _bad_value(f"{param}.type", kind, list(kinds))
        return _fields(value, kinds[kind], param)

    return run


def _list_of(check: Check, expected: str = "an array") -> Check:
    def run(value: Any, param: str) -> Problem | None:
        if not isinstance(value, list):
            return wrong_type(param, expected, value)
        for index, element in enumerate(value):
            problem = check(element, f"{param}[{index}]")
            if problem is not None:
                return problem
        return None

    return run


def _typed_list(kinds: Mapping[str, Fields]) -> Check:
    return _list_of(_typed(kinds))


# --- content parts ------------------------------------------------------------------------------

_CACHE = (False, object_)  # prompt_cache_breakpoint
_INPUT_PARTS: Mapping[str, Fields] = {
    "input_text": {"text": (True, string), "prompt_cache_breakpoint": _CACHE},
    "input_image": {
        "image_url": (False, nullable(string)),
        "file_id": (False, nullable(string)),
        "detail": (False, one_of("low", "high", "auto", "original")),
        "prompt_cache_breakpoint": _CACHE,
    },
    "input_file": {
        "file_id": (False, nullable(string)),
        "file_data": (False, string),
        "file_url": (False, string),
        "filename": (False, string),
        "detail": (False, one_of("low", "high", "auto")),
        "prompt_cache_breakpoint": _CACHE,
    },
}
_OUTPUT_PARTS: Mapping[str, Fields] = {
    "output_text": {
        "text": (True, string),
        "annotations": (False, array),
        "logprobs": (False, array),
    },
    "refusal": {"refusal": (True, string)},
}
_input_parts = _typed_list(_INPUT_PARTS)


def _text_or_parts(parts: Check) -> Check:
    def run(value: Any, param: str) -> Problem | None:
        return None if isinstance(value, str) else parts(value, param)

    return run


_tool_output = _text_or_parts(_input_parts)

# --- input items --------------------------------------------------------------------------------

_ID = (False, string)
_STATUS = (False, nullable(one_of(*_STATUSES)))
_CALLER = (False, nullable(object_))
_WEB_ACTIONS: Mapping[str, Fields] = {
    "search": {"query": (False, string), "queries": (False, array), "sources": (False, array)},
    "open_page": {"url": (False, nullable(string))},
    "find_in_page": {"url": (True, string), "pattern": (True, string)},
}


_ITEMS: Mapping[str, Fields] = {
    "function_call": {
        "id": _ID,
        "call_id": (True, string),
        "name": (True, string),
        "arguments": (True, string),
        "namespace": (False, string),
        "caller": _CALLER,
        "status": _STATUS,
    },
    "function_call_output": {
        "id": (False, nullable(string)),
        "call_id": (True, string),
        "output": (True, _tool_output),
        "name": (False, nullable(string)),
        "namespace": (False, nullable(string)),
        "caller": _CALLER,
        "status": _STATUS,
    },
    "custom_tool_call": {
        "id": _ID,
        "call_id": (True, string),
        "name": (True, string),
        "input": (True, string),
        "namespace": (False, string),
        "caller": _CALLER,
        "status": _STATUS,
    },
    "custom_tool_call_output": {
        "id": _ID,
        "call_id": (True, string),
        "output": (True, _tool_output),
        "caller": _CALLER,
    },
    "reasoning": {
        # The id is optional in practice: stateless clients (store=false) leave it out.
        "id": _ID,
        "summary": (True, _typed_list({"summary_text": {"text": (True, string)}})),
        "content": (False, nullable(_typed_list({"reasoning_text": {"text": (True, string)}}))),
        "encrypted_content": (False, nullable(string)),
        "status": _STATUS,
    },
    "web_search_call": {
        "id": _ID,
        "status": (False, one_of("in_progress", "searching", "completed", "failed", "incomplete")),
        "action": (False, _typed(_WEB_ACTIONS)),
    },
    "local_shell_call": {
        "id": _ID,
        "call_id": (False, nullable(string)),
        "status": (True, one_of(*_STATUSES)),
        "action": (True, object_),
    },
    "compaction": {"id": (False, nullable(string)), "encrypted_content": (True, string)},
}
_ITEM_TYPES = sorted({"message", *_ITEMS, *_OPAQUE_ITEMS})
# A tool output delivered from outside the conversation: it answers no call, so it names the
# tool instead of giving a call_id (what the reference sends for an app-server `toolOutput`).
_DELIVERED_OUTPUT: Fields = {
    "id": (False, nullable(string)),
    "name": (True, string),
    "namespace": (False, nullable(string)),
    "output": (True, _tool_output),
}


def _message(item: Mapping[str, Any], where: str) -> Problem | None:
    if "role" not in item:
        return missing(f"{where}.role")
    role = item["role"]
    problem = one_of(*_ROLES)(role, f"{where}.role")
    if problem is not None:
        return problem
    # Assistant text is output the model wrote; every other role speaks in input parts.
    parts = _typed_list(_OUTPUT_PARTS) if role == "assistant" else _input_parts
    spec: Fields = {
        "role": (True, anything),
        "content": (True, _text_or_parts(parts)),
        "id": _ID,
        "status": _STATUS,
        "phase": (False, nullable(one_of("commentary", "final_answer"))),
    }
    return _fields(item, spec, where)


def _item(item: Any, where: str) -> Problem | None:
    if not isinstance(item, dict):
        return wrong_type(where, "an object", item)
    kind = item.get("type")
    if kind is None:
        # An untyped item is a message when it has a role (EasyInputMessage).
        if "role" in item:
            return _message(item, where)
        return missing(f"{where}.type")
    if kind == "message":
        return _message(item, where)
    if kind == "function_call_output" and "call_id" not in item and "name" in item:
        return _fields(item, _DELIVERED_OUTPUT, where)
    if kind in _ITEMS:
        return _fields(item, _ITEMS[kind], where)
    if kind in _OPAQUE_ITEMS:
        return None
    return _bad_value(f"{where}.type", kind, _ITEM_TYPES)


# --- tools --------------------------------------------------------------------------------------


def _tool_name(value: Any, param: str) -> Problem | None:
    if not isinstance(value, str):
        return wrong_type(param, "a string", value)
    if _TOOL_NAME.match(value):
        return None
    return Problem(
        f"Invalid '{param}': string does not match pattern. Expected a string that matches "
        "the pattern '^[a-zA-Z0-9_-]+$'.",
        param,
        "invalid_value",
    )


_FUNCTION_TOOL: Fields = {
    "name": (True, _tool_name),
    "description": (False, nullable(string)),
    "parameters": (False, nullable(object_)),
    "strict": (False, nullable(boolean)),
    "defer_loading": (False, boolean),
    "output_schema": (False, nullable(object_)),
    "allowed_callers": (False, nullable(array)),
}
_CUSTOM_TOOL: Fields = {
    "name": (True, _tool_name),
    "description": (False, string),
    "format": (False, object_),
    "defer_loading": (False, boolean),
    "allowed_callers": (False, nullable(array)),
}
_WEB_SEARCH_TOOL: Fields = {
    "external_web_access": (False, boolean),
    # Sent by 0.163 for models whose catalog searches images too (`text_and_image`).
    "search_content_types": (False, array),
    "filters": (False, nullable(object_)),
    "search_context_size": (False, one_of("low", "medium", "high")),
    "user_location": (False, nullable(object_)),
}
_WEB_SEARCH_PREVIEW_TOOL: Fields = {
    "search_context_size": (False, one_of("low", "medium", "high")),
    "search_content_types": (False, array),
    "user_location": (False, nullable(object_)),
}
_TOOLS: Mapping[str, Fields] = {
    "function": _FUNCTION_TOOL,
    "custom": _CUSTOM_TOOL,
    "namespace": {
        "name": (True, _tool_name),
        "description": (True, string),
        "tools": (True, _typed_list({"function": _FUNCTION_TOOL, "custom": _CUSTOM_TOOL})),
    },
    "local_shell": {},
    "web_search": _WEB_SEARCH_TOOL,
    "web_search_2025_08_26": _WEB_SEARCH_TOOL,
    "web_search_preview": _WEB_SEARCH_PREVIEW_TOOL,
    "web_search_preview_2025_03_11": _WEB_SEARCH_PREVIEW_TOOL,
}
_TOOL_TYPES = sorted({*_TOOLS, *_OPAQUE_TOOLS})


def _tool(tool: Any, where: str) -> Problem | None:
    if not isinstance(tool, dict):
        return wrong_type(where, "an object", tool)
    if "type" not in tool:
        return missing(f"{where}.type")
    kind = tool["type"]
    if kind in _OPAQUE_TOOLS:
        return None
    if kind not in _TOOLS:
        return _bad_value(f"{where}.type", kind, _TOOL_TYPES)
    problem = _fields(tool, _TOOLS[kind], where)
    if problem is None and kind == "function":
        problem = _function_parameters(tool)
    return problem


def _function_parameters(tool: Mapping[str, Any]) -> Problem | None:
    parameters = tool.get("parameters")
    if not parameters or parameters.get("type") == "object":
        return None
    got = parameters.get("type")
    return Problem(
        f"Invalid schema for function '{tool['name']}': schema must be a JSON Schema of "
        f"'type: \"object\"', got 'type: \"{got}\"'.",
        "tools",
        "invalid_function_parameters",
    )


tools = _list_of(_tool, "an array of objects")


def tool_choice(value: Any, param: str) -> Problem | None:
    if isinstance(value, str):
        return one_of("auto", "none", "required")(value, param)
    return object_(value, param)


def input_items(value: Any, param: str) -> Problem | None:
    if isinstance(value, str):
        return None
    return _list_of(_item, "a string or an array")(value, param)
