"""The goal tools: ``get_goal``, ``create_goal`` and ``update_goal`` over the session's
:class:`~codex_engine.core.goals.GoalBook`. Parameters are those the reference offers; each answer
is the goal as JSON (with the remaining budget, and a usage report once complete)."""

from __future__ import annotations

import json
from typing import Any

from codex_engine.core.goals import GoalBook, ThreadGoal
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["GOAL_TOOL_NAMES", "GoalToolset", "goal_tool_specs"]

GET_GOAL = "get_goal"
CREATE_GOAL = "create_goal"
UPDATE_GOAL = "update_goal"
GOAL_TOOL_NAMES = (GET_GOAL, CREATE_GOAL, UPDATE_GOAL)
#: The statuses the model may set; resuming and the limits belong to the user and the system.
_MODEL_STATUSES = ("complete", "blocked", "paused")
_BAD_ARGS = "failed to parse function arguments"


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def goal_tool_specs() -> list[dict[str, Any]]:
    """The three specs, in the order the reference offers them."""
    return [
        _function(
            GET_GOAL,
            "Read this thread's goal: objective, status, token budget, usage so far and the "
            "tokens left.",
            {},
            [],
        ),
        _function(
            CREATE_GOAL,
            "Start a goal for this thread, only when the user or the system/developer "
            "instructions ask for one; never infer a goal from an ordinary task.\n"
            "Fails while an unfinished goal exists; a complete goal is replaced.\n"
            f"Change a goal's status with {UPDATE_GOAL}.",
            {
                "objective": {"type": "string"},
                "token_budget": {
                    "type": "integer",
                    "description": "Positive; leave out unless a budget was asked for.",
                },
            },
            ["objective"],
        ),
        _function(
            UPDATE_GOAL,
            "Change the status of the existing goal; resuming it and the usage and budget "
            "limits are for the user and the system.\n"
            "complete: the objective is achieved and no required work remains (running low on "
            "budget is not completion); for a budgeted goal, report the tokens used.\n"
            "blocked: the same obstacle stopped progress for at least three goal turns in a "
            "row and nothing more can be done without the user or a change outside.\n"
            "paused: only when the user explicitly asks; say the returned status and stop "
            "working on the goal.",
            {"status": {"type": "string", "enum": list(_MODEL_STATUSES)}},
            ["status"],
        ),
    ]


def _answer(goal: ThreadGoal | None) -> str:
    report: str | None = None
    if goal is not None and goal.status == "complete":
        parts: list[str] = []
        if goal.token_budget is not None:
            parts.append(f"tokens used: {goal.tokens_used} of {goal.token_budget}")
        if goal.time_used_seconds > 0:
            parts.append(f"time used: {goal.time_used_seconds} seconds")
        if parts:
            report = "Goal complete. Tell the user the final usage: " + "; ".join(parts) + "."
    body = {
        "goal": goal.to_json() if goal is not None else None,
        "remainingTokens": goal.remaining_tokens if goal is not None else None,
        "completionBudgetReport": report,
    }
    return json.dumps(body, indent=2)


class GoalToolset:
    """The goal tools of one session; offered when feature ``goals`` is on and the session is
    recorded (an ephemeral thread keeps no goal)."""

    def __init__(self, book: GoalBook) -> None:
        self.book = book

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return goal_tool_specs() if settings.goals and self.book.available else []

    def handles(self, name: str) -> bool:
        return name in GOAL_TOOL_NAMES

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        def out(text: str) -> FunctionCallOutput:
            return FunctionCallOutput(call_id=call.call_id, output=text)

        if not self.specs(ctx.settings):
            return out(f"unsupported tool {call.name!r}: goals are not enabled for this thread")
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            return out(f"{_BAD_ARGS}: {exc.msg}")
        if not isinstance(args, dict):
            return out(f"{_BAD_ARGS}: expected a JSON object")
        turn = self.book.current_turn
        try:
            if call.name == GET_GOAL:
                return out(_answer(self.book.goal))
            if call.name == CREATE_GOAL:
                objective, budget = args.get("objective"), args.get("token_budget")
                if not isinstance(objective, str):
                    return out(f"{_BAD_ARGS}: `objective` must be a string")
                if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)):
                    return out(f"{_BAD_ARGS}: `token_budget` must be an integer")
                return out(_answer(await self.book.create(objective, budget, turn_id=turn)))
            status = args.get("status")
            if status not in _MODEL_STATUSES:
                return out(
                    "update_goal can only set status complete, blocked or paused; resuming and "
                    "the budget and usage limits are controlled by the user or the system"
                )
            return out(_answer(await self.book.set(status=status, turn_id=turn)))
        except ValueError as exc:
            return out(str(exc))
