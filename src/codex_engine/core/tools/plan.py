"""``update_plan``: the model keeps a step-by-step plan of its work that the user sees (a
:class:`~codex_engine.core.events.PlanUpdated` event); nothing runs. Offered when the config
enables it (``[tools.update_plan] enabled = true``), as the reference does.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from codex_engine.core.events import PlanStep, PlanUpdated
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["UPDATE_PLAN_TOOL_NAME", "UpdatePlanTool", "parse_plan"]

UPDATE_PLAN_TOOL_NAME = "update_plan"
_STATUSES = ("pending", "in_progress", "completed")
_STATUS_OF: dict[str, Literal["pending", "in_progress", "completed"]] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "completed",
}
_DESCRIPTION = (
    "Keep the user informed of your plan for the task: a short list of steps, each pending, "
    "in_progress or completed (at most one in progress). Send the whole plan each time it "
    "changes, mark steps completed as you finish them, and give an explanation when the plan "
    "itself changes. Skip it for simple one-step tasks."
)


def parse_plan(arguments: str) -> tuple[str | None, tuple[PlanStep, ...]]:
    """The explanation and steps of an ``update_plan`` call; ``ValueError`` saying what is
    wrong with them."""
    try:
        data: Any = json.loads(arguments)
    except ValueError as exc:
        raise ValueError(f"the arguments are not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("the arguments must be an object with a `plan` array")
    explanation = data.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        raise ValueError("`explanation` must be a string")
    plan = data.get("plan")
    if not isinstance(plan, list):
        raise ValueError("`plan` must be an array of {step, status} objects")
    steps: list[PlanStep] = []
    for index, entry in enumerate(plan):
        step = entry.get("step") if isinstance(entry, dict) else None
        status = entry.get("status") if isinstance(entry, dict) else None
        if not isinstance(step, str) or status not in _STATUSES:
            raise ValueError(
                f"`plan[{index}]` must be {{step: string, status: {' | '.join(_STATUSES)}}}"
            )
        steps.append(PlanStep(step, _STATUS_OF[status]))
    return explanation, tuple(steps)


class UpdatePlanTool:
    """``update_plan``, when the session's settings enable it."""

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        if not settings.update_plan_tool:
            return []
        step = {
            "type": "object",
            "properties": {
                "status": {
                    "type": "string",
                    "description": "Where this step stands.",
                    "enum": list(_STATUSES),
                },
                "step": {"type": "string", "description": "What the step does, briefly."},
            },
            "required": ["step", "status"],
            "additionalProperties": False,
        }
        return [
            {
                "type": "function",
                "name": UPDATE_PLAN_TOOL_NAME,
                "description": _DESCRIPTION,
                "strict": False,
                "parameters": {
                    "type": "object",
                    "properties": {
                        "explanation": {
                            "type": "string",
                            "description": "Why the plan changed, when it did.",
                        },
                        "plan": {"type": "array", "description": "The steps.", "items": step},
                    },
                    "required": ["plan"],
                    "additionalProperties": False,
                },
            }
        ]

    def handles(self, name: str) -> bool:
        return name == UPDATE_PLAN_TOOL_NAME

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        try:
            explanation, steps = parse_plan(call.arguments)
        except ValueError as exc:
            ctx.metrics.tool_call(UPDATE_PLAN_TOOL_NAME, False, 0.0)
            return FunctionCallOutput(call_id=call.call_id, output=f"plan not updated: {exc}")
        ctx.metrics.tool_call(UPDATE_PLAN_TOOL_NAME, True, 0.0)
        ctx.emit(PlanUpdated(call.call_id, explanation, steps))
        return FunctionCallOutput(call_id=call.call_id, output="Plan updated")
