"""Checks a create-response request the way the real Responses API does, before any answer.

Pure: a request body and what the server remembers of earlier responses in, the problems out.
Messages, `param` paths and codes follow the API's 400 answers (`invalid_request_error`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codex_engine.emulator.wire_schema import (
    Check,
    Problem,
    anything,
    array,
    boolean,
    input_items,
    missing,
    nullable,
    object_,
    string,
    tool_choice,
    tools,
    unknown,
    wrong_type,
)

__all__ = [
    "Conversation",
    "Problem",
    "continue_conversation",
    "first_problem",
    "validate_request",
]

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Conversation:
    """What a completed response leaves for a request that continues it (`previous_response_id`).

    `calls` maps every tool call id seen so far in the chain to its item type; `awaiting` lists
    the calls of the response's own output, which the continuing request must answer.
    """

    calls: Mapping[str, str] = field(default_factory=dict)
    awaiting: tuple[tuple[str, str], ...] = ()


# The output item type -> the call item types it may answer. A `local_shell_call` is answered with
# a `function_call_output`, as the reference CLI does.
_ANSWERS: Mapping[str, tuple[str, ...]] = {
    "function_call_output": ("function_call", "local_shell_call"),
    "custom_tool_call_output": ("custom_tool_call",),
}
# Call item types the API insists on seeing answered, and how it names them in its messages.
_NEEDS_ANSWER: Mapping[str, str] = {
    "function_call": "function call",
    "custom_tool_call": "custom tool call",
}
_ANSWER_NAMES: Mapping[str, str] = {
    "function_call_output": "function call output",
    "custom_tool_call_output": "custom tool call output",
}

# --- the request --------------------------------------------------------------------------------

_OPTIONAL: Mapping[str, Check] = {
    "instructions": nullable(string),
    "tools": tools,
    "tool_choice": tool_choice,
    "parallel_tool_calls": nullable(boolean),
    "reasoning": nullable(object_),
    "store": nullable(boolean),
    "stream": nullable(boolean),
    "include": nullable(array),
    "service_tier": nullable(string),
    "prompt_cache_key": nullable(string),
    "text": object_,
    "client_metadata": nullable(object_),
    "metadata": nullable(object_),
    "previous_response_id": nullable(string),
    # WebSocket only: `generate: false` warms the connection without sampling.
    "generate": boolean,
    "max_output_tokens": anything,
    "max_tool_calls": anything,
    "temperature": anything,
    "top_p": anything,
    "top_logprobs": anything,
    "truncation": anything,
    "user": anything,
    "safety_identifier": anything,
    "prompt": anything,
    "prompt_cache_retention": anything,
    "background": anything,
    "conversation": anything,
    "context_management": anything,
    "stream_options": anything,
}


def _shape(body: Any) -> Problem | None:
    if not isinstance(body, dict):
        return Problem("The request body must be a JSON object.")
    if "model" not in body:
        return missing("model")
    model = body["model"]
    if not isinstance(model, str) or not model:
        return wrong_type("model", "a non-empty string", model)
    if "input" not in body:
        return missing("input")
    problem = input_items(body["input"], "input")
    if problem is not None:
        return problem
    for name, value in body.items():
        if name in ("model", "input"):
            continue
        check = _OPTIONAL.get(name)
        if check is None:
            return unknown(name)
        problem = check(value, name)
        if problem is not None:
            return problem
    return None


def _items(body: Mapping[str, Any]) -> list[JsonDict]:
    items = body.get("input")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _pairing(items: Iterable[JsonDict], prior: Conversation) -> list[Problem]:
    """Each output answers a call made before it; each call made here is answered here."""
    problems: list[Problem] = []
    known = dict(prior.calls)
    owed: dict[str, str] = {call_id: kind for kind, call_id in prior.awaiting}
    for item in items:
        kind = item.get("type")
        call_id = item.get("call_id")
        if not isinstance(kind, str) or not isinstance(call_id, str):
            continue
        if kind in _NEEDS_ANSWER:
            known[call_id] = kind
            owed[call_id] = kind
        elif kind == "local_shell_call":
            known[call_id] = kind
        elif kind in _ANSWERS:
            if known.get(call_id) not in _ANSWERS[kind]:
                problems.append(
                    Problem(
                        f"No tool call found for {_ANSWER_NAMES[kind]} with call_id {call_id}.",
                        "input",
                    )
                )
            owed.pop(call_id, None)
    for call_id, kind in owed.items():
        problems.append(
            Problem(f"No tool output found for {_NEEDS_ANSWER[kind]} {call_id}.", "input")
        )
    return problems


def validate_request(
    body: Any, *, previous: Callable[[str], Conversation | None] | None = None
) -> list[Problem]:
    """Every reason the API would refuse this create request; empty when it would accept it.

    `previous` looks up a response id the server remembers (None when it does not); without it
    no `previous_response_id` is known. A malformed body stops at its first problem.
    """
    shape = _shape(body)
    if shape is not None:
        return [shape]
    prior = Conversation()
    previous_id = body.get("previous_response_id")
    if previous_id is not None:
        found = previous(previous_id) if previous is not None else None
        if found is None:
            return [
                Problem(
                    f"Previous response with id '{previous_id}' not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
            ]
        prior = found
    return _pairing(_items(body), prior)


def first_problem(
    body: Any, *, previous: Callable[[str], Conversation | None] | None = None
) -> Problem | None:
    """The problem the API would report (its first), or None."""
    problems = validate_request(body, previous=previous)
    return problems[0] if problems else None


def continue_conversation(
    body: Mapping[str, Any], output: Sequence[Mapping[str, Any]], prior: Conversation | None
) -> Conversation:
    """What a response to `body` that produced `output` leaves for the request continuing it."""
    calls = dict(prior.calls) if prior is not None else {}
    awaiting: list[tuple[str, str]] = []
    for item, produced in [*((i, False) for i in _items(body)), *((o, True) for o in output)]:
        kind = item.get("type")
        call_id = item.get("call_id")
        if not isinstance(call_id, str) or kind not in (*_NEEDS_ANSWER, "local_shell_call"):
            continue
        calls[call_id] = str(kind)
        if produced and kind in _NEEDS_ANSWER:
            awaiting.append((str(kind), call_id))
    return Conversation(calls=calls, awaiting=tuple(awaiting))
