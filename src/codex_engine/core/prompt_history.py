"""The history as the model is shown it: every tool call answered, no answer without its call.

The Responses API refuses a request with an unanswered call or an orphan output (400). A turn
interrupted or killed mid-command, and a fork or resume of such a session, leave a call with no
output; like the reference, the prompt gets an `aborted` output right after it (not recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_engine.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
)

__all__ = ["ABORTED_OUTPUT", "prompt_items"]

#: What the model is told of a call whose command never reported back (the reference's text).
ABORTED_OUTPUT = "aborted"


def prompt_items(history: Sequence[ResponseItem]) -> list[ResponseItem]:
    """`history` with a synthetic output after each unanswered call and orphan outputs left out."""
    # A function call is answered by a function output, a custom (freeform) call by a custom one.
    calls = {(type(item), item.call_id) for item in history if isinstance(item, _CALLS)}
    answered = {(type(item), item.call_id) for item in history if isinstance(item, _OUTPUTS)}
    items: list[ResponseItem] = []
    for item in history:
        if isinstance(item, _OUTPUTS) and (_CALL_OF[type(item)], item.call_id) not in calls:
            continue
        items.append(item)
        if isinstance(item, FunctionCall) and (FunctionCallOutput, item.call_id) not in answered:
            items.append(FunctionCallOutput(call_id=item.call_id, output=ABORTED_OUTPUT))
        elif (
            isinstance(item, CustomToolCall)
            and (CustomToolCallOutput, item.call_id) not in answered
        ):
            items.append(CustomToolCallOutput(call_id=item.call_id, output=ABORTED_OUTPUT))
    return items


_CALLS = (FunctionCall, CustomToolCall)
_OUTPUTS = (FunctionCallOutput, CustomToolCallOutput)
_CALL_OF: dict[type, type] = {
    FunctionCallOutput: FunctionCall,
    CustomToolCallOutput: CustomToolCall,
}
