"""``turn/*`` and ``thread/compact/start``: a turn (or a compaction) runs as a task of its thread.

Both run through :func:`_run`: answer first, then ``turn/started``, the work's notifications,
and one finish path (:func:`_finish`) that closes open items and sends ``turn/completed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.projector import TurnProjector, turn_error
from codex_engine.app_server.registry import (
    InvalidParamsError,
    InvalidRequestError,
    method,
)
from codex_engine.app_server.settings import thread_settings_note, turn_changes
from codex_engine.app_server.state import ThreadState, TurnRecord
from codex_engine.core.events import TurnCompleted, TurnEvent, TurnFailed, TurnInterrupted
from codex_engine.core.goal_continuation import continuation_input
from codex_engine.core.turn_options import TurnOptions
from codex_engine.core.user_input import PreparedInput, prepare_input
from codex_engine.errors import CodexError, InputError
from codex_engine.protocol.app_server import (
    ContextCompactionItem,
    FunctionCallOutputItem,
    RuntimeSummaryWire,
    ThreadIdParams,
    TurnCompletedNotification,
    TurnError,
    TurnInterruptParams,
    TurnStartedNotification,
    TurnStartParams,
    TurnStartResponse,
    TurnStatus,
    TurnSteerParams,
    TurnSteerResponse,
    TurnToolOutput,
    UserMessageItem,
    WarningNotification,
)
from codex_engine.protocol.items import DeliveredToolOutput
from codex_engine.protocol.user_input import parse_user_inputs

__all__ = ["continue_goal", "interrupt_all", "start_task", "wait_all"]

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Outcome(msgspec.Struct):
    """How a turn ended, as ``turn/completed`` reports it."""

    status: TurnStatus
    error: TurnError | None = None
    duration_ms: int | None = None
    #: codex-engine's per-turn runtime summary (an extra field of ``turn/completed``).
    runtime: dict[str, Any] | None = None


def _user_input(
    ctx: ServerContext, thread: ThreadState, items: list[dict[str, Any]]
) -> PreparedInput:
    """The user's input items (text, images, local images, mentions, skills) made into what
    the model reads and what the thread shows; InvalidRequestError for a bad item."""
    try:
        inputs = parse_user_inputs(items)
    except InputError as exc:
        # Answered in the reference's words, with no prefix (e.g. a remote image URL).
        raise InvalidRequestError(str(exc)) from None
    return prepare_input(inputs, cwd=thread.settings.cwd, skill_roots=[ctx.codex_home / "skills"])


def _output_schema(schema: Any) -> dict[str, Any] | None:
    """The turn's ``outputSchema``: a JSON schema object, sent as this turn's ``text.format``."""
    if schema is None or isinstance(schema, dict):
        return schema
    raise InvalidParamsError("`outputSchema` must be a JSON object (a JSON schema)")


def _ensure_idle(thread: ThreadState) -> None:
    if thread.active is not None:
        what = "compaction" if thread.active.kind == "compaction" else "turn"
        raise InvalidRequestError(
            f"thread {thread.id} already has {what} {thread.active.id} in progress; wait for "
            "turn/completed or send turn/interrupt"
        )


def _projector(thread: ThreadState, turn_id: str) -> TurnProjector:
    return TurnProjector(
        thread.id,
        turn_id,
        context_window=thread.settings.model_info.effective_context_window(),
        clock_ms=_now_ms,
    )


async def _run(
    thread: ThreadState,
    record: TurnRecord,
    work: Callable[[], Awaitable[_Outcome]],
    after: Callable[[_Outcome], Awaitable[None]] | None = None,
) -> None:
    """The task of a turn or compaction: announce, work, always finish, then ``after``."""
    started = time.monotonic()
    outcome = _Outcome("interrupted")
    try:
        await record.responded.wait()
        await thread.notify_status()
        note = TurnStartedNotification(thread_id=thread.id, turn=record.to_wire(items="notLoaded"))
        await thread.peer.notify("turn/started", note.to_wire())
        outcome = await work()
    except asyncio.CancelledError:
        outcome = _Outcome("interrupted")
    except CodexError as exc:
        outcome = _Outcome("failed", turn_error(exc))
    except Exception as exc:
        log.exception("%s %s of thread %s broke", record.kind, record.id, thread.id)
        message = f"internal error in codex-engine: {exc}"
        outcome = _Outcome("failed", TurnError(message=message, codex_error_info="other"))
    finally:
        if outcome.duration_ms is None:
            outcome.duration_ms = int((time.monotonic() - started) * 1000)
        await _finish(thread, record, outcome)
    if after is not None:
        await after(outcome)


async def _finish(thread: ThreadState, record: TurnRecord, outcome: _Outcome) -> None:
    """Close what the turn left open, record how it ended, and send ``turn/completed``."""
    peer = thread.peer
    notes = record.projector.close_open_items()
    record.status = outcome.status
    record.error = outcome.error
    record.completed_at = int(time.time())
    record.duration_ms = outcome.duration_ms
    thread.turns.append(record)
    thread.active = None
    for change in record.deferred_changes:
        if thread.session is not None:
            thread.session.update_settings(change)
    thread.updated_at = record.completed_at
    if peer.closed:
        return
    try:
        for method_name, params in notes:
            await peer.notify(method_name, params)
        if record.error is not None:
            failure = {
                "threadId": thread.id,
                "turnId": record.id,
                "error": record.error.to_wire(),
                "willRetry": False,
            }
            await peer.notify("error", failure)
        await thread.notify_status()
        # runtimeSummary is codex-engine's extension; the reference schema allows additional
        # properties here and clients that do not know it ignore it.
        runtime = outcome.runtime
        completed = TurnCompletedNotification(
            thread_id=thread.id,
            turn=record.to_wire(items="summary"),
            runtime_summary=msgspec.convert(runtime, RuntimeSummaryWire) if runtime else None,
        )
        await peer.notify("turn/completed", completed.to_wire())
    except asyncio.CancelledError:
        log.info("turn %s ended while the connection was closing", record.id)


# -- turn/start --------------------------------------------------------------------------------


async def _stream(
    thread: ThreadState,
    record: TurnRecord,
    events: AsyncIterator[TurnEvent],
    rate_limits: dict[str | None, dict[str, Any]],
) -> _Outcome:
    """A turn's work: project the session's events into notifications until the last one."""
    peer = thread.peer
    projector = record.projector
    final: TurnCompleted | TurnFailed | TurnInterrupted | None = None
    try:
        if record.user_item is not None:  # a review turn opens with no user message
            for method_name, params in (
                projector.started(record.user_item),
                projector.finished(record.user_item),
            ):
                await peer.notify(method_name, params)
            # The user message is reported separately; turn/completed lists what the model did.
            projector.completed.clear()
        async for event in events:
            if isinstance(event, TurnCompleted | TurnFailed | TurnInterrupted):
                final = event
            else:
                for method_name, params in projector.on_event(event):
                    if method_name == "account/rateLimits/updated":
                        # Kept for account/rateLimits/read, by limit id.
                        snapshot = params["rateLimits"]
                        rate_limits[snapshot.get("limitId")] = snapshot
                    await peer.notify(method_name, params)
    except asyncio.CancelledError:
        close = getattr(events, "aclose", None)
        if close is not None:
            with contextlib.suppress(BaseException):
                await close()
        raise
    if isinstance(final, TurnCompleted):
        outcome = _Outcome("completed")
    elif isinstance(final, TurnFailed):
        outcome = _Outcome("failed", turn_error(final.error))
    else:
        outcome = _Outcome("interrupted")
    if final is not None:
        outcome.duration_ms = int(final.summary.duration_s * 1000)
        outcome.runtime = final.summary.runtime.to_json()
    return outcome


def _delivered_output(output: TurnToolOutput) -> tuple[DeliveredToolOutput, FunctionCallOutputItem]:
    """A ``toolOutput`` as the model gets it and as the thread shows it (one id for both)."""
    if not output.name.strip():
        raise InvalidRequestError("`toolOutput.name` must not be empty; name the tool")
    item_id = f"fco_{uuid.uuid4()}"
    delivered = DeliveredToolOutput(
        id=item_id, name=output.name, namespace=output.namespace, output=output.output
    )
    shown = FunctionCallOutputItem(
        id=item_id, name=output.name, namespace=output.namespace, output=output.output
    )
    return delivered, shown


async def _launch(
    ctx: ServerContext,
    thread: ThreadState,
    prepared: PreparedInput | None,
    options: TurnOptions,
    opening: Callable[[TurnProjector], UserMessageItem | FunctionCallOutputItem | None],
) -> TurnRecord:
    """Start a turn of the session as the thread's active turn; its task waits for
    ``record.responded`` before announcing it."""
    assert thread.session is not None
    events = thread.session.run_turn(prepared, options=options)
    # The first event is TurnStarted, yielded before any I/O: it names the turn.
    first = await events.__anext__()
    projector = _projector(thread, getattr(first, "turn_id", ""))
    record = TurnRecord(projector.turn_id, opening(projector), int(time.time()), projector)
    thread.active = record
    thread.updated_at = record.started_at

    async def after(outcome: _Outcome) -> None:
        await _after_turn(ctx, thread, outcome)

    record.task = asyncio.create_task(
        _run(thread, record, lambda: _stream(thread, record, events, ctx.rate_limits), after)
    )
    return record


async def _after_turn(ctx: ServerContext, thread: ThreadState, outcome: _Outcome) -> None:
    """A completed turn leaves the thread idle: an active goal continues in a new turn (a
    failed or interrupted one stops the goal's run until the client resumes it)."""
    if outcome.status == "completed":
        await continue_goal(ctx, thread)


async def continue_goal(ctx: ServerContext, thread: ThreadState) -> bool:
    """Start a goal-continuation turn when the thread is idle and its goal is active, as the
    reference does after ``thread/goal/set`` and after each turn. The turn opens with the
    hidden continuation message (``core/goal_continuation.py``) and no user message."""
    session = thread.session
    if session is None or thread.active is not None or thread.peer.closed:
        return False
    goal = session.goals.goal
    if not thread.settings.goals or goal is None or goal.status != "active":
        return False
    record = await _launch(ctx, thread, continuation_input(goal), TurnOptions(), lambda _p: None)
    if not thread.preview:
        thread.preview = goal.objective
    record.responded.set()
    return True


@method("turn/start", TurnStartParams)
async def turn_start(ctx: ServerContext, p: TurnStartParams, reply: Reply) -> None:
    thread = ctx.thread(p.thread_id)
    prepared: PreparedInput | None = None
    delivered: tuple[DeliveredToolOutput, FunctionCallOutputItem] | None = None
    if p.tool_output is not None:
        if p.input:
            raise InvalidRequestError(
                "`toolOutput` cannot be combined with nonempty `input`; send one or the other"
            )
        delivered = _delivered_output(p.tool_output)
    else:
        if not p.input:
            raise InvalidParamsError("`input` is empty")
        prepared = _user_input(ctx, thread, p.input)
    active = await _joinable_turn(thread)
    if active is not None:
        # As the reference: a turn/start on a thread with a running turn joins it (the input
        # or tool output is steered in) and answers with that turn. Its setting changes (model,
        # effort, ...) apply to the turns after it, not to the running one.
        changes, _warning = turn_changes(p, thread.config, thread.settings)
        if changes:
            active.deferred_changes.append(changes)
        if delivered is not None:
            steered = PreparedInput(items=(delivered[0],), text="", content=())
            await _steer(thread, active, steered, delivered[1])
        else:
            assert prepared is not None
            await _steer(thread, active, prepared, _user_item(active, prepared, p))
        await reply.result(TurnStartResponse(turn=active.to_wire(items="notLoaded")).to_wire())
        return
    _ensure_idle(thread)
    session = thread.session
    assert session is not None
    changes, model_warning = turn_changes(p, thread.config, thread.settings)
    if changes:
        session.update_settings(changes)
    reviewer = p.approvals_reviewer
    reviewer_changed = reviewer is not None and reviewer != thread.approvals_reviewer
    if reviewer is not None:
        thread.approvals_reviewer = reviewer
    if changes or reviewer_changed:
        # As the reference: announced before the turn/start answer.
        await ctx.peer.notify("thread/settings/updated", thread_settings_note(thread))
    options = TurnOptions(
        output_schema=_output_schema(p.output_schema),
        tool_output=delivered[0] if delivered is not None else None,
        service_tier=p.service_tier_for_turn,
        trigger=p.turn_trigger,
    )

    def opening(projector: TurnProjector) -> UserMessageItem | FunctionCallOutputItem:
        if delivered is not None:
            return delivered[1]
        assert prepared is not None
        return UserMessageItem(
            id=projector.new_item_id(),
            client_id=p.client_user_message_id,
            content=list(prepared.content),
        )

    record = await _launch(ctx, thread, prepared, options, opening)
    if not thread.preview and prepared is not None and prepared.text:
        thread.preview = prepared.text
    try:
        await reply.result(TurnStartResponse(turn=record.to_wire(items="notLoaded")).to_wire())
    finally:
        record.responded.set()
    if model_warning:
        note = WarningNotification(message=model_warning, thread_id=thread.id)
        await ctx.peer.notify("warning", note.to_wire())


async def _joinable_turn(thread: ThreadState) -> TurnRecord | None:
    """The running turn a ``turn/start`` joins, if any.

    A turn whose model loop has ended but which is not finished yet (its last notifications and
    ``turn/completed`` on their way) can take no more input: wait for it to finish, then join
    the turn that followed it (a goal continuation), or none (the thread is idle).
    """
    while True:
        active = thread.active
        if active is None or active.kind != "turn":
            return None
        session = thread.session
        task = active.task
        if session is None or session.running_turn_id == active.id or task is None:
            return active
        if task.done():
            return active  # finished without clearing: steering it answers as before
        await asyncio.wait({task})


def start_task(thread: ThreadState, work: Callable[[TurnRecord], Awaitable[None]]) -> TurnRecord:
    """A turn with no user message whose work the app-server does itself (a user's shell
    command): the thread's active turn, announced and always finished like any other. Set
    ``record.responded`` once the request is answered."""
    _ensure_idle(thread)
    projector = _projector(thread, str(uuid.uuid4()))
    record = TurnRecord(projector.turn_id, None, int(time.time()), projector, kind="shell")
    thread.active = record

    async def run() -> _Outcome:
        await work(record)
        return _Outcome("completed")

    record.task = asyncio.create_task(_run(thread, record, run))
    return record


# -- thread/compact/start ----------------------------------------------------------------------


async def _compact(thread: ThreadState, record: TurnRecord) -> _Outcome:
    """A compaction's work: one contextCompaction item around the session's compaction."""
    item = ContextCompactionItem(id=record.projector.new_item_id())
    method_name, params = record.projector.started(item)
    await thread.peer.notify(method_name, params)
    assert thread.session is not None
    await thread.session.compact()
    method_name, params = record.projector.finished(item)
    await thread.peer.notify(method_name, params)
    return _Outcome("completed")


@method("thread/compact/start", ThreadIdParams)
async def thread_compact(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> None:
    thread = ctx.thread(p.thread_id)
    _ensure_idle(thread)
    projector = _projector(thread, str(uuid.uuid4()))
    record = TurnRecord(projector.turn_id, None, int(time.time()), projector, kind="compaction")
    thread.active = record
    record.task = asyncio.create_task(_run(thread, record, lambda: _compact(thread, record)))
    try:
        await reply.result({})
    finally:
        record.responded.set()


# -- turn/interrupt, turn/steer ----------------------------------------------------------------


@method("turn/interrupt", TurnInterruptParams)
async def turn_interrupt(ctx: ServerContext, p: TurnInterruptParams, reply: Reply) -> Any:
    thread = ctx.thread(p.thread_id)
    active = thread.active
    if active is None or active.id != p.turn_id:
        found = active.id if active is not None else "none"
        raise InvalidRequestError(f"expected active turn id {p.turn_id} but found {found}")
    # As the reference: interrupting pauses an active goal, so no continuation follows.
    goals = thread.session.goals if thread.session is not None else None
    if goals is not None and goals.goal is not None and goals.goal.status == "active":
        await goals.set(status="paused")
    thread.interrupt()
    return {}


def _user_item(
    record: TurnRecord, prepared: PreparedInput, p: TurnStartParams | TurnSteerParams
) -> UserMessageItem:
    return UserMessageItem(
        id=record.projector.new_item_id(),
        client_id=p.client_user_message_id,
        content=list(prepared.content),
    )


async def _steer(
    thread: ThreadState,
    record: TurnRecord,
    prepared: PreparedInput,
    item: UserMessageItem | FunctionCallOutputItem,
) -> None:
    """Steer input into the running turn and show it as an item of that turn."""
    assert thread.session is not None
    if thread.session.steer(prepared) is None:
        raise InvalidRequestError("no active turn to steer")
    projector = record.projector
    notes = [projector.started(item), projector.finished(item)]
    # The turn's summary (turn/completed) lists what the model did, not the user's messages.
    projector.completed.remove(item)
    record.steer(item)
    for method_name, params in notes:
        await thread.peer.notify(method_name, params)


@method("turn/steer", TurnSteerParams)
async def turn_steer(ctx: ServerContext, p: TurnSteerParams, reply: Reply) -> Any:
    thread = ctx.thread(p.thread_id)
    active = thread.active
    # The reference's checks, in its order and words.
    if active is None or active.kind != "turn":
        raise InvalidRequestError("no active turn to steer")
    if active.id != p.expected_turn_id:
        raise InvalidRequestError(
            f"expected active turn id `{p.expected_turn_id}` but found `{active.id}`"
        )
    if not p.input:
        raise InvalidRequestError("input must not be empty")
    prepared = _user_input(ctx, thread, p.input)
    await _steer(thread, active, prepared, _user_item(active, prepared, p))
    return TurnSteerResponse(turn_id=active.id).to_wire()


async def interrupt_all(ctx: ServerContext, *, wait_s: float = 5) -> None:
    """Interrupt every running turn and wait (bounded) for their tasks to finish."""
    for thread in ctx.threads.values():
        thread.interrupt()
    tasks = [t.active.task for t in ctx.threads.values() if t.active is not None and t.active.task]
    if tasks:
        await asyncio.wait(tasks, timeout=wait_s)


async def wait_all(ctx: ServerContext) -> None:
    """Wait until no thread has a running turn or compaction."""
    while tasks := [
        t.active.task
        for t in ctx.threads.values()
        if t.active is not None and t.active.task is not None and not t.active.task.done()
    ]:
        await asyncio.wait(tasks)
