"""``thread/goal/set``, ``thread/goal/get`` and ``thread/goal/clear``: a loaded thread's goal, the
same one the model reads and changes with the goal tools (see ``core/goals.py``).

Each change is announced by the thread's goal listener (``ThreadState``) as
``thread/goal/updated`` or ``thread/goal/cleared``, whoever made it. An active goal on an idle
thread starts a goal-continuation turn (``turns.continue_goal``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.turns import continue_goal
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.core.goals import GoalBook
from codex_engine.protocol.app_server.goals import (
    ThreadGoalClearParams,
    ThreadGoalClearResponse,
    ThreadGoalGetResponse,
    ThreadGoalSetParams,
    ThreadGoalSetResponse,
    goal_wire,
)
from codex_engine.protocol.app_server.threads import ThreadIdParams


def _book(ctx: ServerContext, thread_id: str) -> GoalBook:
    """The loaded thread's goals; an ephemeral thread has none (as on the reference)."""
    thread = ctx.thread(thread_id)
    assert thread.session is not None
    book = thread.session.goals
    if not book.available:
        raise InvalidRequestError(
            f"thread {thread_id} is ephemeral: goals need a recorded thread; start one "
            "without `ephemeral`"
        )
    return book


def _check_feature(ctx: ServerContext, thread_id: str) -> None:
    thread = ctx.thread(thread_id)
    if not thread.settings.goals:
        raise InvalidRequestError(
            "thread goals are turned off (feature `goals`); enable it with `[features] goals = "
            "true` in config.toml"
        )


@method("thread/goal/set", ThreadGoalSetParams)
async def thread_goal_set(ctx: ServerContext, p: ThreadGoalSetParams, reply: Reply) -> None:
    _check_feature(ctx, p.thread_id)
    book = _book(ctx, p.thread_id)
    budget = p.token_budget
    if isinstance(budget, int) and budget <= 0:
        raise InvalidParamsError("`tokenBudget` must be a positive integer (or null for none)")
    if p.objective is not None and not p.objective.strip():
        raise InvalidParamsError("`objective` must not be empty")
    if p.objective is None and book.goal is None:
        raise InvalidRequestError(
            f"thread {p.thread_id} has no goal to update; send `objective` to create one"
        )
    try:
        if budget is not msgspec.UNSET:
            goal = await book.set(objective=p.objective, status=p.status, token_budget=budget)
        else:
            goal = await book.set(objective=p.objective, status=p.status)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
    await reply.result(ThreadGoalSetResponse(goal=goal_wire(goal.to_json())).to_wire())
    # As the reference: an active goal on an idle thread starts working by itself.
    await continue_goal(ctx, ctx.thread(p.thread_id))


@method("thread/goal/get", ThreadIdParams)
async def thread_goal_get(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> Any:
    goal = _book(ctx, p.thread_id).goal
    wire = goal_wire(goal.to_json()) if goal is not None else None
    return ThreadGoalGetResponse(goal=wire).to_wire()


@method("thread/goal/clear", ThreadGoalClearParams)
async def thread_goal_clear(ctx: ServerContext, p: ThreadGoalClearParams, reply: Reply) -> Any:
    return ThreadGoalClearResponse(cleared=await _book(ctx, p.thread_id).clear()).to_wire()
