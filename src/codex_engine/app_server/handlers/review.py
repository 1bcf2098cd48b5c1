"""``review/start``: a review turn (see :mod:`codex_engine.core.review_turn`) on the thread
itself (``inline``) or on a new thread forked from it (``detached``, deprecated as in the
reference: it also sends ``deprecationNotice``).

The turn runs like ``turn/start``'s (same task, finish path and ``turn/completed``); it opens
with an ``enteredReviewMode`` item instead of a user message, and ends with ``exitedReviewMode``
and the result as an agent message.
"""

from __future__ import annotations

import asyncio
import time

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.threads import fork_loaded

# The turn machinery of turn/start, shared so a review turn ends exactly like any other turn.
from codex_engine.app_server.handlers.turns import _ensure_idle, _projector, _run, _stream
from codex_engine.app_server.registry import InvalidParamsError, method
from codex_engine.app_server.state import ThreadState, TurnRecord
from codex_engine.core.events import TurnEvent
from codex_engine.core.review import ReviewTarget
from codex_engine.core.review_turn import run_review
from codex_engine.protocol.app_server.notifications import DeprecationNoticeNotification
from codex_engine.protocol.app_server.review import (
    BaseBranchReviewTarget,
    CommitReviewTarget,
    CustomReviewTarget,
    ReviewStartParams,
    ReviewStartResponse,
)

__all__: list[str] = []

DETACHED_NOTICE = DeprecationNoticeNotification(
    summary="review/start with `delivery: detached` is deprecated",
    details=(
        "Start a thread with thread/start (or thread/fork) and run an inline review on it; "
        "this review runs on a new thread forked from the one given (see reviewThreadId)."
    ),
)


def _target(p: ReviewStartParams) -> ReviewTarget:
    target = p.target
    try:
        match target:
            case BaseBranchReviewTarget():
                return ReviewTarget("baseBranch", branch=target.branch)
            case CommitReviewTarget():
                return ReviewTarget("commit", sha=target.sha, title=target.title)
            case CustomReviewTarget():
                return ReviewTarget("custom", instructions=target.instructions)
            case _:
                return ReviewTarget("uncommittedChanges")
    except ValueError as exc:
        raise InvalidParamsError(f"`target`: {exc}") from None


async def _start(thread: ThreadState, target: ReviewTarget) -> TurnRecord:
    """Start the review turn on ``thread``; the caller answers, then sets ``responded``."""
    _ensure_idle(thread)
    session = thread.session
    assert session is not None
    events = run_review(session, target)
    # The first event is TurnStarted: it names the turn.
    first: TurnEvent = await events.__anext__()
    projector = _projector(thread, getattr(first, "turn_id", ""))
    record = TurnRecord(projector.turn_id, None, int(time.time()), projector)
    thread.active = record
    thread.updated_at = record.started_at
    record.task = asyncio.create_task(
        _run(thread, record, lambda: _stream(thread, record, events, {}))
    )
    return record


@method("review/start", ReviewStartParams)
async def review_start(ctx: ServerContext, p: ReviewStartParams, reply: Reply) -> None:
    source = ctx.thread(p.thread_id)
    target = _target(p)
    if p.delivery == "detached":
        _ensure_idle(source)
        thread = await fork_loaded(ctx, source)
    else:
        thread = source
    record = await _start(thread, target)
    try:
        result = ReviewStartResponse(
            turn=record.to_wire(items="notLoaded"), review_thread_id=thread.id
        )
        await reply.result(result.to_wire())
    finally:
        record.responded.set()
    if p.delivery == "detached":
        await ctx.peer.notify("deprecationNotice", DETACHED_NOTICE.to_wire())
