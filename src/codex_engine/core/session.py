"""A session: settings fixed between turns, the conversation history, and turns that call tools.

:meth:`Session.run_turn` streams :data:`TurnEvent` values while :mod:`codex_engine.core.turn`
samples the model and :mod:`codex_engine.core.tool_dispatch` carries out its tool calls. A
session is assembled whole: what it works with comes in one :class:`SessionDeps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence

import msgspec

from codex_engine.client.model_client import ModelClient
from codex_engine.client.turn_session import ModelClientSession
from codex_engine.core import compaction
from codex_engine.core.approvals import ApprovalRequest, ApprovalsReviewer, Approver
from codex_engine.core.context import EnvironmentContext, developer_message
from codex_engine.core.events import (
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    TurnStarted,
    TurnSummary,
    WarningEvent,
)
from codex_engine.core.git_info import GitInfo, git_context_message
from codex_engine.core.goals import GoalBook, ThreadGoal
from codex_engine.core.prompt_history import prompt_items
from codex_engine.core.rollout import ROLLBACK_EVENT, RolloutError, RolloutRecorder
from codex_engine.core.sandbox import SandboxSupport
from codex_engine.core.settings import SessionSettings, SettingsChange
from codex_engine.core.tool_dispatch import ToolDispatcher
from codex_engine.core.tools.request_user_input import RequestUserInputTool, UserInputAsker
from codex_engine.core.tools.toolset import Toolset
from codex_engine.core.turn import DONE, EventChannel, TurnDone, TurnState, sample_until_done
from codex_engine.core.turn_metadata import build_turn_metadata
from codex_engine.core.turn_options import TurnOptions
from codex_engine.core.user_input import PreparedInput
from codex_engine.errors import CodexError
from codex_engine.protocol.events import Completed, OutputItemDone, TokenUsage
from codex_engine.protocol.ids import new_thread_id
from codex_engine.protocol.items import ContentPart, ResponseItem, item_to_json, user_message
from codex_engine.protocol.request import Prompt, RequestContext

__all__ = [
    "ApprovalRequest",
    "Approver",
    "Session",
    "SessionDeps",
    "SessionSettings",
    "SettingsChange",
    "new_thread_id",
]

log = logging.getLogger(__name__)

_EVENT_HIGH_WATER = 256
#: How long after the session is made its start's git context still counts as current.
_GIT_REUSE_S = 1.0


class _Client(msgspec.Struct, frozen=True):
    # The one positional field of SessionDeps: a Struct's ``kw_only`` covers the fields its own
    # class defines, so the rest are declared keyword-only in the subclass.
    client: ModelClient


class SessionDeps(_Client, frozen=True, kw_only=True):
    """What a session works with, assembled whole (by the launcher, or a test) before the
    session is made; nothing is attached to a session afterwards."""

    #: Where the session is recorded; ``None`` for a session that writes no rollout.
    recorder: RolloutRecorder | None = None
    #: The repository the session runs in, for the model's context and the turn metadata.
    git_info: GitInfo | None = None
    #: The OS sandbox; ``None`` detects it when the first command needs it.
    sandbox: SandboxSupport | None = None
    #: Asked about commands that need approval; ``None``: nobody can be asked.
    approver: Approver | None = None
    #: Who decides on commands that need approval at first: the user (through ``approver``) or
    #: the engine itself (see ``core/approvals.py``); ``Session.approvals_reviewer`` may change.
    approvals_reviewer: ApprovalsReviewer = "user"
    #: Problems found while reading a resumed rollout (e.g. a torn last line), for the UI.
    load_warnings: tuple[str, ...] = ()
    #: Tools offered after the built-in ones (see ``core/tool_dispatch.py``), e.g. MCP servers'.
    toolsets: tuple[Toolset, ...] = ()
    #: The goal the thread had when it was recorded last (resume, fork).
    goal: ThreadGoal | None = None
    #: Answers the model's ``request_user_input`` questions; ``None``: nobody can (``exec``).
    ask_user: UserInputAsker | None = None


class Session:
    """One conversation with the model. Run one turn at a time."""

    def __init__(
        self,
        settings: SessionSettings,
        deps: SessionDeps,
        *,
        history: Sequence[ResponseItem] = (),
    ) -> None:
        self.settings = settings
        self.deps = deps
        self.thread_id = deps.client.thread_id
        #: The conversation as the model sees it (a resumed session starts from its rollout).
        self.history: list[ResponseItem] = list(history)
        self.total_usage = TokenUsage()
        #: Who decides on commands that need approval: the user (through ``approver``) or the
        #: engine itself (see ``core/approvals.py``). May change between turns.
        self.approvals_reviewer: ApprovalsReviewer = deps.approvals_reviewer
        #: The thread's goal (see ``core/goals.py``), kept in the rollout.
        self.goals = GoalBook(self.thread_id, recorder=deps.recorder, goal=deps.goal)
        #: The tools the model is offered and who carries out each call.
        self.tool_dispatch = ToolDispatcher(
            sandbox=deps.sandbox,
            extra=deps.toolsets,
            goals=self.goals,
            user_input=RequestUserInputTool(deps.ask_user, self.thread_id),
        )
        #: Tokens of the last response: near the context window, the next request compacts first.
        self.context_tokens = 0
        self._prefix_recorded = bool(self.history)
        self._turn_task: asyncio.Task[None] | None = None
        #: A session working for this one (a review's reviewer): interrupted along with it.
        self.delegate: Session | None = None
        #: The running turn's state (``None`` between turns), for input steered into it.
        self._turn_state: TurnState | None = None
        #: Until then, a request reuses the git context the launcher collected just before the
        #: session was made instead of running git again (see :meth:`request_context`).
        self._git_fresh_until = time.monotonic() + _GIT_REUSE_S
        self._git_cwd = settings.cwd

    async def aclose(self) -> None:
        """End what the session's tools still run: no process a command started outlives it.
        Its client, recorder and servers belong to whoever made it (see ``core/launch.py``)."""
        await self.tool_dispatch.aclose()

    @property
    def client(self) -> ModelClient:
        return self.deps.client

    @property
    def recorder(self) -> RolloutRecorder | None:
        return self.deps.recorder

    @property
    def git_info(self) -> GitInfo | None:
        return self.deps.git_info

    @property
    def load_warnings(self) -> tuple[str, ...]:
        return self.deps.load_warnings

    @property
    def tools(self) -> list[dict[str, object]]:
        """The tool specs the next request offers the model."""
        return self.tool_dispatch.specs(self.settings)

    def _record(self, items: Sequence[ResponseItem]) -> None:
        if self.recorder is not None:
            self.recorder.record_items(items)

    def remember(self, items: Sequence[ResponseItem]) -> None:
        """Add items to the conversation and to the rollout."""
        self.history.extend(items)
        self._record(items)

    def inject(self, items: Sequence[ResponseItem]) -> None:
        """Append items from outside a turn (``thread/inject_items``) to what the model sees
        next; the session's prefix (instructions, environment) stays first."""
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("items cannot be injected while a turn is running")
        if not self._prefix_recorded:
            self.remember(self._session_prefix())
            self._prefix_recorded = True
        self.remember(items)

    def revert(self, turns: int) -> None:
        """Drop the last ``turns`` user turns from the history (and record that); files the
        turns changed stay as they are. ``ValueError`` when fewer turns are held."""
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("a thread cannot be reverted while a turn is running")
        self.history = compaction.without_last_user_turns(self.history, turns)
        if self.recorder is not None:
            self.recorder.record("event_msg", {"type": ROLLBACK_EVENT, "num_turns": turns})

    def add_usage(self, usage: TokenUsage) -> TokenUsage:
        """Count a response's tokens; returns the session's total."""
        self.total_usage = self.total_usage + usage
        self.context_tokens = usage.total_tokens
        return self.total_usage

    def _prefix_items(self) -> list[ResponseItem]:
        """The leading items before the first real user turn: instructions and context."""
        prefix: list[ResponseItem] = []
        for item in self.history:
            if compaction.is_user_turn_message(item):
                break
            prefix.append(item)
        return prefix

    def _session_prefix(self) -> list[ResponseItem]:
        items: list[ResponseItem] = []
        if self.settings.developer_instructions:
            items.append(developer_message(self.settings.developer_instructions))
        context = EnvironmentContext.capture(
            self.settings.cwd,
            approval_policy=self.settings.approval_policy,
            sandbox_mode=self.settings.sandbox_mode,
        )
        message = context.to_message()
        if self.settings.user_instructions:
            # One user message, AGENTS.md first, then the environment (as the reference sends).
            agents_md = ContentPart(type="input_text", text=self.settings.user_instructions)
            message = msgspec.structs.replace(message, content=[agents_md, *message.content])
        items.append(message)
        git_block = git_context_message([self.git_info] if self.git_info is not None else [])
        if git_block is not None:
            items.append(git_block)
        return items

    def update_settings(self, change: SettingsChange) -> None:
        """Change settings for the turns that follow (model, effort, summary, cwd, approval
        policy, sandbox, ...). Not allowed while a turn runs.

        When cwd, approval policy or sandbox change, a fresh environment context is appended so
        the model sees the new situation; earlier history is left as it was.
        """
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("settings cannot change while a turn is running")
        before = self.settings
        self.settings = change.apply(before)
        after = self.settings
        context_changed = (before.cwd, before.approval_policy, before.sandbox_mode) != (
            after.cwd,
            after.approval_policy,
            after.sandbox_mode,
        )
        if context_changed and self._prefix_recorded:
            message = EnvironmentContext.capture(
                after.cwd, approval_policy=after.approval_policy, sandbox_mode=after.sandbox_mode
            ).to_message()
            self.remember([message])

    def interrupt(self) -> None:
        """Stop the running turn: its stream and commands are cancelled; it ends interrupted."""
        if self._turn_task is not None and not self._turn_task.done():
            self._turn_task.cancel()
        if self.delegate is not None:
            self.delegate.interrupt()

    def ensure_prefix(self) -> None:
        """Record the instructions and environment context if no turn has yet."""
        if not self._prefix_recorded:
            self.remember(self._session_prefix())
            self._prefix_recorded = True

    @property
    def running_turn_id(self) -> str | None:
        """The id of the turn that runs now, if any."""
        running = self._turn_task is not None and not self._turn_task.done()
        return self._turn_state.turn_id if running and self._turn_state is not None else None

    def steer(self, steered: PreparedInput) -> str | None:
        """Add user input to the running turn: its next model request carries it (after the
        tool calls in progress). Returns the turn's id, or ``None`` between turns."""
        state = self._turn_state
        if state is None or self.running_turn_id is None:
            return None
        state.pending_input.append(steered)
        return state.turn_id

    def add_user_input(self, prepared: PreparedInput) -> None:
        """Add the user's input to the conversation; the rollout keeps what the thread shows
        (a ``user_message`` event with the content items) before the model's items."""
        if self.recorder is not None and prepared.content:
            self.recorder.record(
                "event_msg",
                {
                    "type": "user_message",
                    "message": prepared.text,
                    "content": list(prepared.content),
                },
            )
        self.remember(prepared.items)

    async def run_turn(
        self, text: str | PreparedInput | None, *, options: TurnOptions | None = None
    ) -> AsyncIterator[TurnEvent]:
        """Run one turn and yield its events; the last one is completed/failed/interrupted.

        The turn opens with the user's ``text`` (after ``options.attachments``) or prepared
        input (see ``core/user_input.py``), or with ``options.tool_output`` (then ``text`` is
        ``None``); ``options.output_schema`` constrains this turn's answers.
        """
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("a turn is already running in this session")
        options = options or TurnOptions()
        if (text is None) == (options.tool_output is None):
            raise ValueError("a turn opens with either text or a delivered tool output")
        state = TurnState(turn_id=str(uuid.uuid4()), options=options)
        turn = self.client.new_session()
        channel = EventChannel(_EVENT_HIGH_WATER)
        self.ensure_prefix()
        self._record_turn_context(state.turn_id)
        if isinstance(text, PreparedInput):
            self.add_user_input(text)
        else:
            opening = options.tool_output or user_message(
                text or "", attachments=options.attachments
            )
            self.remember([opening])

        # The task exists before TurnStarted is seen, so an interrupt right after it works; the
        # done callback ends the stream even when the task is cancelled before it ever ran.
        self.goals.current_turn = state.turn_id
        task = asyncio.create_task(sample_until_done(self, turn, state, channel))
        task.add_done_callback(lambda _task: channel.put(DONE))
        self._turn_task = task
        self._turn_state = state
        yield TurnStarted(state.turn_id)
        try:
            while True:
                event = await channel.get()
                if isinstance(event, TurnDone):
                    break
                yield event
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(asyncio.gather(task, return_exceptions=True))
            await turn.aclose()
        summary = self._summary(turn, state)
        self.goals.current_turn = None
        # An active goal is charged what the turn spent (a goal made during the turn too).
        await self.goals.account(state.usage, summary.duration_s, turn_id=state.turn_id)
        if self.recorder is not None:
            self.recorder.record(
                "event_msg",
                {
                    "type": "turn_complete",
                    "turn_id": state.turn_id,
                    "status": "interrupted"
                    if task.cancelled()
                    else "failed"
                    if task.exception() is not None
                    else "completed",
                    "last_agent_message": state.last_message,
                },
            )
            try:
                await self.recorder.flush()
            except RolloutError as exc:
                yield WarningEvent(str(exc))
        if task.cancelled():
            yield TurnInterrupted(state.turn_id, summary)
            return
        error = task.exception()
        if isinstance(error, CodexError):
            yield TurnFailed(state.turn_id, error, summary)
        elif error is not None:
            raise error
        else:
            yield TurnCompleted(state.turn_id, state.last_message, summary)

    def _summary(self, turn: ModelClientSession, state: TurnState) -> TurnSummary:
        duration = time.monotonic() - turn.started_at
        turn.metrics.completed(duration * 1000, state.usage)
        return TurnSummary(duration_s=duration, usage=state.usage, runtime=turn.summary)

    def _record_turn_context(self, turn_id: str) -> None:
        if self.recorder is None:
            return
        settings = self.settings
        self.recorder.record(
            "turn_context",
            {
                "turn_id": turn_id,
                "cwd": str(settings.cwd),
                "approval_policy": settings.approval_policy,
                "sandbox_policy": {"type": settings.sandbox_mode},
                "model": settings.model_info.slug,
                "effort": settings.reasoning_effort,
                "summary": settings.reasoning_summary,
                "developer_instructions": settings.developer_instructions,
            },
        )

    async def request_context(
        self, turn_id: str | None, options: TurnOptions | None = None
    ) -> RequestContext:
        """What every request of a turn (``turn_id``) or of a manual compaction (``None``)
        carries besides its input: model, ids, reasoning, the turn's service tier, and turn
        metadata built now (so git reports the repository as it is at this turn, not as it was
        at session start)."""
        options = options or TurnOptions()
        # The first turn of a session started a moment ago sends the git context collected at
        # start (four git processes fewer); later turns ask git again.
        current = time.monotonic() < self._git_fresh_until and self.settings.cwd == self._git_cwd
        fresh = self.deps.git_info if current else None
        self._git_fresh_until = 0.0
        metadata = await build_turn_metadata(
            self.settings.cwd, sandbox=self.settings.sandbox_mode, turn_id=turn_id, git=fresh
        )
        if options.trigger is not None:
            metadata["turn_trigger"] = options.trigger
        return RequestContext(
            model=self.settings.model_info.slug,
            thread_id=self.thread_id,
            turn_id=turn_id,
            reasoning=self.settings.reasoning(),
            verbosity=self.settings.verbosity,
            service_tier=options.request_service_tier(),
            turn_metadata=metadata,
        )

    async def compact(self) -> str:
        """Replace older history with a summary written by the model; returns the summary.

        Base instructions and the session prefix stay as they are; a ``compacted`` line is
        recorded so a resumed session rebuilds the same history.
        """
        turn = self.client.new_session()
        try:
            return await self.compact_with(turn, await self.request_context(None))
        finally:
            await turn.aclose()

    async def compact_with(self, turn: ModelClientSession, ctx: RequestContext) -> str:
        """Compact on a given turn session (a turn's own when it compacts automatically)."""
        prompt = Prompt(
            input=compaction.build_compaction_prompt(prompt_items(self.history)),
            base_instructions=self.settings.base_instructions,
        )
        answer: list[ResponseItem] = []
        async for event in turn.stream(
            prompt, ctx, prefer_websockets=self.settings.model_info.prefer_websockets
        ):
            if isinstance(event, OutputItemDone):
                answer.append(event.item)
            elif isinstance(event, Completed) and event.token_usage is not None:
                self.total_usage = self.total_usage + event.token_usage
        summary = compaction.summary_from_response(answer)
        self.history = compaction.compacted_history(
            self._prefix_items(), compaction.collect_user_messages(self.history), summary
        )
        self.context_tokens = 0
        if self.recorder is not None:
            self.recorder.record(
                "compacted",
                {
                    "message": summary,
                    "replacement_history": [item_to_json(item) for item in self.history],
                },
            )
        return summary
