"""One turn in flight: the sampling loop and the channel its events leave by.

:func:`sample_until_done` samples the model, has the session's tools carry out the function
calls it makes, sends the results back on the same turn session (so turn state is kept) and
repeats until the model answers without calling a tool.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import TYPE_CHECKING

import msgspec

from codex_engine.client.events import Retrying, WarningEvent
from codex_engine.client.turn_session import ModelClientSession
from codex_engine.core import compaction
from codex_engine.core.events import (
    AgentMessageDelta,
    ContextCompacted,
    ItemCompleted,
    ItemStarted,
    ModelRerouted,
    RateLimitsUpdated,
    ReasoningDelta,
    ReasoningPartAdded,
    ReasoningTextDelta,
    TokenCount,
    TurnEvent,
)
from codex_engine.core.prompt_history import prompt_items
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.core.turn_options import TurnOptions
from codex_engine.core.user_input import PreparedInput
from codex_engine.protocol.events import (
    Completed,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    ServerModel,
    TokenUsage,
)
from codex_engine.protocol.items import CustomToolCall, FunctionCall, assistant_text
from codex_engine.protocol.request import Prompt

if TYPE_CHECKING:
    from codex_engine.core.session import Session

__all__ = ["DONE", "EventChannel", "TurnDone", "TurnState", "sample_until_done"]


class TurnDone:
    """Marks the end of a turn's event queue."""


DONE = TurnDone()


class EventChannel:
    """The turn's events on their way to the consumer: ``put`` never blocks, ``writable``
    waits while more than ``high_water`` are waiting to be read."""

    def __init__(self, high_water: int) -> None:
        self._items: collections.deque[TurnEvent | TurnDone] = collections.deque()
        self._high_water = high_water
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def put(self, item: TurnEvent | TurnDone) -> None:
        self._items.append(item)
        self._readable.set()
        if len(self._items) >= self._high_water:
            self._writable.clear()

    async def writable(self) -> None:
        await self._writable.wait()

    async def get(self) -> TurnEvent | TurnDone:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        item = self._items.popleft()
        if len(self._items) < self._high_water:
            self._writable.set()
        return item


class TurnState(msgspec.Struct):
    """What the turn's end reports besides the counter: its tokens and its last answer."""

    turn_id: str
    usage: TokenUsage = msgspec.field(default_factory=TokenUsage)
    last_message: str | None = None
    #: What this turn carries besides its text (output schema, service tier, trigger...).
    options: TurnOptions = msgspec.field(default_factory=TurnOptions)
    #: The turn already reported that the server answered with another model.
    rerouted: bool = False
    #: User input sent while the turn runs (``Session.steer``), for its next request.
    pending_input: list[PreparedInput] = msgspec.field(default_factory=list)

    def take_pending_input(self) -> list[PreparedInput]:
        taken, self.pending_input = self.pending_input, []
        return taken


def _rerouted(state: TurnState, requested: str, served: str) -> list[TurnEvent]:
    """A reroute (and its warning) the first time a response names another model."""
    if state.rerouted or served == requested:
        return []
    state.rerouted = True
    warning = (
        f"this turn asked for model {requested}, but the server answered with {served}; "
        "the answers come from that model"
    )
    return [ModelRerouted(requested, served), WarningEvent(warning)]


async def sample_until_done(
    session: Session, turn: ModelClientSession, state: TurnState, channel: EventChannel
) -> None:
    """Sample until the model answers without calling a tool; events go to ``channel``."""
    emit = channel.put
    ctx = await session.request_context(state.turn_id, state.options)
    # The first request waits for tools still getting ready (MCP servers starting, each
    # within its own timeout); what went wrong is a warning, and the turn goes on without it.
    for problem in await session.tool_dispatch.prepare():
        emit(WarningEvent(problem))
    while True:
        # Input steered in since the last request joins the conversation before the next one.
        for steered in state.take_pending_input():
            session.add_user_input(steered)
        settings = session.settings
        if compaction.should_auto_compact(session.context_tokens, settings.model_info):
            summary = await session.compact_with(turn, ctx)
            emit(ContextCompacted(summary, automatic=True))
        prompt = Prompt(
            input=prompt_items(session.history),
            base_instructions=settings.base_instructions,
            tools=session.tools,
            parallel_tool_calls=settings.model_info.supports_parallel_tool_calls,
            output_schema=state.options.output_schema,
        )
        calls: list[FunctionCall | CustomToolCall] = []
        stream = turn.stream(prompt, ctx, prefer_websockets=settings.model_info.prefer_websockets)
        async for event in stream:
            # A consumer that falls behind slows the model stream down instead of letting
            # events pile up without bound.
            await channel.writable()
            match event:
                case OutputTextDelta():
                    turn.metrics.first_token((time.monotonic() - turn.started_at) * 1000)
                    emit(AgentMessageDelta(event.delta, event.item_id))
                case ReasoningSummaryDelta():
                    turn.metrics.first_token((time.monotonic() - turn.started_at) * 1000)
                    emit(ReasoningDelta(event.delta, event.item_id, event.summary_index))
                case ReasoningContentDelta():
                    turn.metrics.first_token((time.monotonic() - turn.started_at) * 1000)
                    emit(ReasoningTextDelta(event.delta, event.item_id, event.content_index))
                case ReasoningSummaryPartAdded():
                    emit(ReasoningPartAdded(event.item_id, event.summary_index))
                case ServerModel():
                    for note in _rerouted(state, ctx.model, event.model):
                        emit(note)
                case OutputItemAdded():
                    emit(ItemStarted(event.item))
                case OutputItemDone():
                    session.remember([event.item])
                    emit(ItemCompleted(event.item))
                    message = assistant_text(event.item)
                    if message is not None:
                        state.last_message = message
                    if isinstance(event.item, FunctionCall | CustomToolCall):
                        calls.append(event.item)
                case Completed():
                    if event.token_usage is not None:
                        state.usage = state.usage + event.token_usage
                        total = session.add_usage(event.token_usage)
                        emit(TokenCount(event.token_usage, total))
                case RateLimits():
                    emit(RateLimitsUpdated(event.snapshot))
                case Retrying() | WarningEvent():
                    emit(event)
                case _:
                    pass  # the rest of the stream (created, part boundaries) is not shown
        if not calls:
            if state.pending_input:
                # Steered in while the model answered: the turn goes on with it, as 0.163 does.
                continue
            return
        turn.summary.tool_calls_made += len(calls)
        tools = ToolContext(
            settings=settings,
            approvals_reviewer=session.approvals_reviewer,
            approver=session.deps.approver,
            metrics=turn.metrics,
            emit=emit,
        )
        parallel = settings.model_info.supports_parallel_tool_calls
        session.remember(await session.tool_dispatch.call_all(calls, tools, parallel=parallel))
