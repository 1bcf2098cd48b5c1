"""A thread's goal: the objective pursued across turns, its status, budget and usage.

A :class:`GoalBook` holds a session's goal; each change is recorded in the rollout as an
``event_msg`` (:data:`GOAL_UPDATED_EVENT` / :data:`GOAL_CLEARED_EVENT`), so resume, fork and
``thread/read`` find the latest one (:func:`goal_from_events`). Listeners hear every change.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, get_args

import msgspec

from codex_engine.core.rollout import RolloutRecorder
from codex_engine.protocol.events import TokenUsage

__all__ = [
    "GOAL_CLEARED_EVENT",
    "GOAL_UPDATED_EVENT",
    "GoalBook",
    "GoalListener",
    "GoalStatus",
    "ThreadGoal",
    "goal_from_events",
    "goal_tokens",
]

GoalStatus = Literal["active", "paused", "blocked", "usageLimited", "budgetLimited", "complete"]
GOAL_STATUSES: frozenset[str] = frozenset(get_args(GoalStatus))
#: ``event_msg`` types that record a goal change in the rollout.
GOAL_UPDATED_EVENT = "thread_goal_updated"
GOAL_CLEARED_EVENT = "thread_goal_cleared"


class ThreadGoal(msgspec.Struct, frozen=True):
    """One goal as the app-server's ``ThreadGoal`` shows it (times in Unix seconds)."""

    thread_id: str
    objective: str
    status: GoalStatus
    token_budget: int | None
    tokens_used: int
    time_used_seconds: int
    created_at: int
    updated_at: int

    @property
    def remaining_tokens(self) -> int | None:
        return None if self.token_budget is None else max(self.token_budget - self.tokens_used, 0)

    def to_json(self) -> dict[str, Any]:
        """The wire (camelCase) form, also what the rollout records."""
        return {
            "threadId": self.thread_id,
            "objective": self.objective,
            "status": self.status,
            "tokenBudget": self.token_budget,
            "tokensUsed": self.tokens_used,
            "timeUsedSeconds": self.time_used_seconds,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ThreadGoal | None:
        """A recorded goal, or ``None`` when the record is not one (a damaged line)."""
        try:
            status = data["status"]
            budget = data.get("tokenBudget")
            goal = cls(
                thread_id=str(data["threadId"]),
                objective=str(data["objective"]),
                status=status,
                token_budget=None if budget is None else int(budget),
                tokens_used=int(data.get("tokensUsed", 0)),
                time_used_seconds=int(data.get("timeUsedSeconds", 0)),
                created_at=int(data["createdAt"]),
                updated_at=int(data["updatedAt"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return goal if status in GOAL_STATUSES else None


def goal_from_events(events: Iterable[Mapping[str, Any]], thread_id: str) -> ThreadGoal | None:
    """The goal the recorded ``event_msg`` payloads leave, as goal of ``thread_id`` (a fork
    inherits its source's goal)."""
    goal: ThreadGoal | None = None
    for event in events:
        kind = event.get("type")
        if kind == GOAL_CLEARED_EVENT:
            goal = None
        elif kind == GOAL_UPDATED_EVENT and isinstance(event.get("goal"), Mapping):
            goal = ThreadGoal.from_json(event["goal"]) or goal
    if goal is not None and goal.thread_id != thread_id:
        goal = msgspec.structs.replace(goal, thread_id=thread_id)
    return goal


def goal_tokens(usage: TokenUsage) -> int:
    """What a response costs a goal's budget: fresh input plus output (cache hits are free,
    reasoning is already part of output)."""
    return max(usage.input_tokens - usage.cached_input_tokens, 0) + max(usage.output_tokens, 0)


#: Called after every change with the goal (``None``: cleared) and the turn that made it.
GoalListener = Callable[[ThreadGoal | None, str | None], Awaitable[None]]

_UNSET: Any = object()


class GoalBook:
    """A session's goal. Changes need a recorded session: an ephemeral one has no goals."""

    def __init__(
        self,
        thread_id: str,
        *,
        recorder: RolloutRecorder | None,
        goal: ThreadGoal | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.thread_id = thread_id
        self._recorder = recorder
        self._goal = goal
        self._clock = clock
        self.listeners: list[GoalListener] = []
        #: The turn running now (set by the session), named in the changes its tools make.
        self.current_turn: str | None = None

    @property
    def goal(self) -> ThreadGoal | None:
        return self._goal

    @property
    def available(self) -> bool:
        return self._recorder is not None

    def _require_recorded(self) -> RolloutRecorder:
        if self._recorder is None:
            raise ValueError(
                f"thread {self.thread_id} is ephemeral: goals need a recorded thread; start "
                "one without `ephemeral`"
            )
        return self._recorder

    async def create(
        self, objective: str, token_budget: int | None, *, turn_id: str | None = None
    ) -> ThreadGoal:
        """A new active goal; refused while an unfinished one exists (a complete one is
        replaced)."""
        if self._goal is not None and self._goal.status != "complete":
            raise ValueError(
                "cannot create a goal: this thread already has an unfinished goal; use "
                "update_goal to change its status"
            )
        return await self.set(
            objective=objective, status="active", token_budget=token_budget, turn_id=turn_id
        )

    async def set(
        self,
        *,
        objective: str | None = None,
        status: GoalStatus | None = None,
        token_budget: int | None = _UNSET,
        turn_id: str | None = None,
    ) -> ThreadGoal:
        """With ``objective``: a new goal (``status`` default active, usage from zero).
        Without: the existing goal's status and/or budget (``None`` budget removes it)."""
        recorder = self._require_recorded()
        budget = None if token_budget is _UNSET else token_budget
        if budget is not None and budget <= 0:
            raise ValueError("goal token budget must be a positive integer when given")
        now = int(self._clock())
        if objective is not None:
            text = objective.strip()
            if not text:
                raise ValueError("goal objective must not be empty")
            goal = ThreadGoal(self.thread_id, text, status or "active", budget, 0, 0, now, now)
        else:
            if self._goal is None:
                raise ValueError(f"cannot update goal for thread {self.thread_id}: no goal exists")
            goal = msgspec.structs.replace(
                self._goal,
                status=status or self._goal.status,
                token_budget=self._goal.token_budget if token_budget is _UNSET else budget,
                updated_at=now,
            )
        await self._store(recorder, goal, turn_id)
        return goal

    async def clear(self) -> bool:
        """Remove the goal; ``False`` when there was none."""
        recorder = self._require_recorded()
        if self._goal is None:
            return False
        self._goal = None
        recorder.record("event_msg", {"type": GOAL_CLEARED_EVENT})
        await recorder.flush()
        for listener in list(self.listeners):
            await listener(None, None)
        return True

    async def account(
        self, usage: TokenUsage, seconds: float, *, turn_id: str | None
    ) -> ThreadGoal | None:
        """Charge a turn's usage to the goal when it is active; an exhausted budget turns it
        ``budgetLimited``. Returns the goal when it changed."""
        goal = self._goal
        if goal is None or goal.status != "active" or self._recorder is None:
            return None
        tokens = goal.tokens_used + goal_tokens(usage)
        status: GoalStatus = goal.status
        if goal.token_budget is not None and tokens >= goal.token_budget:
            status = "budgetLimited"
        changed = msgspec.structs.replace(
            goal,
            tokens_used=tokens,
            time_used_seconds=goal.time_used_seconds + int(seconds),
            status=status,
            updated_at=int(self._clock()),
        )
        await self._store(self._recorder, changed, turn_id)
        return changed

    async def _store(
        self, recorder: RolloutRecorder, goal: ThreadGoal, turn_id: str | None
    ) -> None:
        self._goal = goal
        recorder.record("event_msg", {"type": GOAL_UPDATED_EVENT, "goal": goal.to_json()})
        await recorder.flush()
        for listener in list(self.listeners):
            await listener(goal, turn_id)
