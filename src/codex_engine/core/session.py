"""A session: settings fixed once, the conversation history, and turns that call tools.

:meth:`Session.run_turn` streams :data:`TurnEvent` values: it samples the model, runs each
function call the model makes, sends the results back within the same turn (same turn session,
so turn state is kept) and repeats until the model answers without calling a tool.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_engine.client.model_client import (
    ClientWarning,
    ModelClient,
    ModelClientSession,
    StreamRetry,
    TransportFallback,
)
from codex_engine.config.catalog import ModelInfo
from codex_engine.config.loader import ApprovalPolicy, SandboxMode, WebSearchMode
from codex_engine.core import compaction
from codex_engine.core.approvals import (
    ApprovalRequest,
    ApprovalsReviewer,
    Approver,
    automatic_decision,
)
from codex_engine.core.context import EnvironmentContext, developer_message
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    ContextCompacted,
    ItemCompleted,
    ItemStarted,
    RateLimitsUpdated,
    ReasoningDelta,
    Retrying,
    TokenCount,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    TurnStarted,
    TurnSummary,
    Warning,
)
from codex_engine.core.git_info import GitInfo, git_context_message
from codex_engine.core.prompt_history import prompt_items
from codex_engine.core.rollout import RolloutError, RolloutRecorder
from codex_engine.core.sandbox import (
    SandboxSupport,
    detect_sandbox,
    sandbox_writable_roots,
    wrap_command,
)
from codex_engine.core.tools.mcp import McpCallPolicy, McpToolset
from codex_engine.core.tools.safety import is_known_safe_command
from codex_engine.core.tools.shell import (
    SHELL_TOOL_NAME,
    ShellCall,
    format_for_model,
    parse_shell_arguments,
    run_shell,
    shell_tool_spec,
)
from codex_engine.core.web_search import resolve_web_search_mode, web_search_tool
from codex_engine.errors import CodexError
from codex_engine.protocol.events import (
    Completed,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningSummaryDelta,
    TokenUsage,
)
from codex_engine.protocol.ids import new_thread_id
from codex_engine.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
    assistant_text,
    item_to_json,
    user_message,
)
from codex_engine.protocol.request import Prompt, ReasoningParams, RequestContext

__all__ = ["ApprovalRequest", "Approver", "Session", "SessionSettings", "new_thread_id"]

log = logging.getLogger(__name__)


_USER_DECLINED = "the user declined to run this command"
_EVENT_HIGH_WATER = 256


class _EventChannel:
    """The turn's events on their way to the consumer: ``put`` never blocks, ``writable``
    waits while more than ``high_water`` are waiting to be read."""

    def __init__(self, high_water: int) -> None:
        self._items: collections.deque[TurnEvent | _Done] = collections.deque()
        self._high_water = high_water
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def put(self, item: TurnEvent | _Done) -> None:
        self._items.append(item)
        self._readable.set()
        if len(self._items) >= self._high_water:
            self._writable.clear()

    async def writable(self) -> None:
        await self._writable.wait()

    async def get(self) -> TurnEvent | _Done:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        item = self._items.popleft()
        if len(self._items) < self._high_water:
            self._writable.set()
        return item


class _Done:
    """Marks the end of a turn's event queue."""


_DONE = _Done()


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything a session fixes at its start. Turns read it; nothing changes it."""

    cwd: Path
    model_info: ModelInfo
    base_instructions: str
    approval_policy: ApprovalPolicy = "never"
    sandbox_mode: SandboxMode = "read-only"
    developer_instructions: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = "auto"
    verbosity: str | None = None
    #: The environment of the model's commands (``None``: this process's); built by the launcher
    #: from ``shell_environment_policy``. Kept out of ``repr`` since it may hold credentials.
    shell_env: Mapping[str, str] | None = field(default=None, repr=False)
    #: ``web_search`` from config; ``None`` means not set, which lets the sandbox decide.
    web_search: WebSearchMode | None = None
    #: Whether sandboxed commands may use the network.
    network_access: bool = False

    def reasoning(self) -> ReasoningParams | None:
        info = self.model_info
        if not info.supports_reasoning_summaries:
            return None
        effort = self.reasoning_effort or info.default_reasoning_level
        return ReasoningParams(effort=effort, summary=self.reasoning_summary)

    def truncation_limit_bytes(self) -> int:
        policy = self.model_info.truncation_policy
        # A token is about four bytes of English text or code.
        return policy.limit * 4 if policy.mode == "tokens" else policy.limit


@dataclass
class _TurnState:
    turn_id: str
    started: float = field(default_factory=time.monotonic)
    usage: TokenUsage = field(default_factory=TokenUsage)
    tool_calls: int = 0
    last_message: str | None = None


class Session:
    """One conversation with the model. Run one turn at a time."""

    def __init__(
        self,
        settings: SessionSettings,
        client: ModelClient,
        *,
        approver: Approver | None = None,
        recorder: RolloutRecorder | None = None,
        git_info: GitInfo | None = None,
        history: Sequence[ResponseItem] = (),
        sandbox: SandboxSupport | None = None,
        approvals_reviewer: ApprovalsReviewer = "user",
    ) -> None:
        self.settings = settings
        self.client = client
        self.thread_id = client.thread_id
        #: The conversation as the model sees it (a resumed session starts from its rollout).
        self.history: list[ResponseItem] = list(history)
        self.total_usage = TokenUsage()
        self.recorder = recorder
        self.git_info = git_info
        #: Problems found while reading a resumed rollout (e.g. a torn last line), for the UI.
        self.load_warnings: list[str] = []
        self._approver = approver
        #: Who decides on commands that need approval: the user (through ``approver``) or the
        #: engine itself (see ``core/approvals.py``). May change between turns.
        self.approvals_reviewer: ApprovalsReviewer = approvals_reviewer
        self._sandbox = sandbox
        self._warned_no_sandbox = False
        self._prefix_recorded = bool(self.history)
        self._last_total_tokens = 0
        self._turn_task: asyncio.Task[None] | None = None
        #: Tools of the configured MCP servers (set by the launcher when there are any).
        self.mcp: McpToolset | None = None

    @property
    def tools(self) -> list[dict[str, object]]:
        tools: list[dict[str, object]] = [shell_tool_spec()]
        mode = resolve_web_search_mode(
            self.settings.web_search, sandbox_mode=self.settings.sandbox_mode
        )
        hosted = web_search_tool(mode)
        if hosted is not None:
            tools.append(hosted)
        if self.mcp is not None:
            tools.extend(self.mcp.specs())
        return tools

    def _record(self, items: Sequence[ResponseItem]) -> None:
        if self.recorder is not None:
            self.recorder.record_items(items)

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
        items.append(context.to_message())
        git_block = git_context_message([self.git_info] if self.git_info is not None else [])
        if git_block is not None:
            items.append(git_block)
        return items

    def update_settings(self, **changes: Any) -> None:
        """Change settings for the turns that follow (model, effort, summary, cwd, approval
        policy, sandbox, ...). Not allowed while a turn runs.

        Base instructions stay what the session fixed unless ``base_instructions`` is passed.
        When cwd, approval policy or sandbox change, a fresh environment context is appended so
        the model sees the new situation; earlier history is left as it was.
        """
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("settings cannot change while a turn is running")
        before = self.settings
        self.settings = dataclasses.replace(before, **changes)
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
            self.history.append(message)
            self._record([message])

    def interrupt(self) -> None:
        """Stop the running turn: its stream and commands are cancelled; it ends interrupted."""
        if self._turn_task is not None and not self._turn_task.done():
            self._turn_task.cancel()

    async def run_turn(self, text: str) -> AsyncIterator[TurnEvent]:
        """Run one user turn and yield its events; the last one is completed/failed/interrupted."""
        if self._turn_task is not None and not self._turn_task.done():
            raise RuntimeError("a turn is already running in this session")
        state = _TurnState(turn_id=str(uuid.uuid4()))
        turn = self.client.new_session()
        channel = _EventChannel(_EVENT_HIGH_WATER)
        if not self._prefix_recorded:
            prefix = self._session_prefix()
            self.history.extend(prefix)
            self._record(prefix)
            self._prefix_recorded = True
        self._record_turn_context(state.turn_id)
        message = user_message(text)
        self.history.append(message)
        self._record([message])

        # The task exists before TurnStarted is seen, so an interrupt right after it works; the
        # done callback ends the stream even when the task is cancelled before it ever ran.
        task = asyncio.create_task(self._sample_until_done(turn, state, channel))
        task.add_done_callback(lambda _task: channel.put(_DONE))
        self._turn_task = task
        yield TurnStarted(state.turn_id)
        try:
            while True:
                event = await channel.get()
                if isinstance(event, _Done):
                    break
                yield event
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(asyncio.gather(task, return_exceptions=True))
            await turn.aclose()
        summary = self._summary(turn, state)
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
                yield Warning(str(exc))
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

    def _summary(self, turn: ModelClientSession, state: _TurnState) -> TurnSummary:
        stats = turn.stats
        ttft = stats.first_event_at - state.started if stats.first_event_at is not None else None
        duration = time.monotonic() - state.started
        turn.metrics.completed(duration * 1000, state.usage)
        return TurnSummary(
            requests=stats.requests,
            retries=stats.retries,
            tool_calls=state.tool_calls,
            stream_events=stats.events,
            duration_s=duration,
            time_to_first_token_s=ttft,
            usage=state.usage,
            runtime=turn.metrics.summary,
        )

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

    def _request_context(self, turn_id: str | None) -> RequestContext:
        metadata: dict[str, object] = {"sandbox": self.settings.sandbox_mode}
        if turn_id is not None:
            metadata["turn_id"] = turn_id
        if self.git_info is not None:
            metadata["workspaces"] = self.git_info.to_turn_metadata_workspaces()
        return RequestContext(
            model=self.settings.model_info.slug,
            thread_id=self.thread_id,
            turn_id=turn_id,
            reasoning=self.settings.reasoning(),
            verbosity=self.settings.verbosity,
            turn_metadata=metadata,
        )

    async def compact(self) -> str:
        """Replace older history with a summary written by the model; returns the summary.

        Base instructions and the session prefix stay as they are; a ``compacted`` line is
        recorded so a resumed session rebuilds the same history.
        """
        turn = self.client.new_session()
        try:
            return await self._compact(turn, self._request_context(None))
        finally:
            await turn.aclose()

    async def _compact(self, turn: ModelClientSession, ctx: RequestContext) -> str:
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
        self._last_total_tokens = 0
        if self.recorder is not None:
            self.recorder.record(
                "compacted",
                {
                    "message": summary,
                    "replacement_history": [item_to_json(item) for item in self.history],
                },
            )
        return summary

    async def _sample_until_done(
        self,
        turn: ModelClientSession,
        state: _TurnState,
        channel: _EventChannel,
    ) -> None:
        emit = channel.put
        ctx = self._request_context(state.turn_id)
        if self.mcp is not None:
            # The first request waits for servers still starting, each within its own timeout.
            for problem in await self.mcp.prepare():
                emit(Warning(problem))
        while True:
            if compaction.should_auto_compact(self._last_total_tokens, self.settings.model_info):
                summary = await self._compact(turn, ctx)
                emit(ContextCompacted(summary, automatic=True))
            prompt = Prompt(
                input=prompt_items(self.history),
                base_instructions=self.settings.base_instructions,
                tools=self.tools,
                parallel_tool_calls=self.settings.model_info.supports_parallel_tool_calls,
            )
            calls: list[FunctionCall] = []
            stream = turn.stream(
                prompt, ctx, prefer_websockets=self.settings.model_info.prefer_websockets
            )
            async for event in stream:
                # A consumer that falls behind slows the model stream down instead of letting
                # events pile up without bound.
                await channel.writable()
                if isinstance(event, OutputTextDelta):
                    turn.metrics.first_token((time.monotonic() - state.started) * 1000)
                    emit(AgentMessageDelta(event.delta, event.item_id))
                elif isinstance(event, ReasoningSummaryDelta):
                    turn.metrics.first_token((time.monotonic() - state.started) * 1000)
                    emit(ReasoningDelta(event.delta, event.item_id, event.summary_index))
                elif isinstance(event, OutputItemAdded):
                    emit(ItemStarted(event.item))
                elif isinstance(event, OutputItemDone):
                    self.history.append(event.item)
                    self._record([event.item])
                    emit(ItemCompleted(event.item))
                    message = assistant_text(event.item)
                    if message is not None:
                        state.last_message = message
                    if isinstance(event.item, FunctionCall):
                        calls.append(event.item)
                elif isinstance(event, Completed):
                    if event.token_usage is not None:
                        state.usage = state.usage + event.token_usage
                        self.total_usage = self.total_usage + event.token_usage
                        self._last_total_tokens = event.token_usage.total_tokens
                        emit(TokenCount(event.token_usage, self.total_usage))
                elif isinstance(event, RateLimits):
                    emit(RateLimitsUpdated(event.snapshot))
                elif isinstance(event, StreamRetry):
                    emit(Retrying(event.retry, event.max_retries, event.delay, event.message))
                elif isinstance(event, TransportFallback | ClientWarning):
                    emit(Warning(event.message))
            if not calls:
                return
            state.tool_calls += len(calls)
            if self.settings.model_info.supports_parallel_tool_calls and len(calls) > 1:
                outputs = await asyncio.gather(*(self._call_tool(turn, c, emit) for c in calls))
            else:
                outputs = [await self._call_tool(turn, c, emit) for c in calls]
            self.history.extend(outputs)
            self._record(outputs)

    async def _call_tool(
        self, turn: ModelClientSession, call: FunctionCall, emit: Callable[[TurnEvent], None]
    ) -> FunctionCallOutput:
        if self.mcp is not None and self.mcp.handles(call):
            policy = McpCallPolicy.of(self.settings, self.approvals_reviewer, self._approver)
            return await self.mcp.run(call, policy, emit)
        if call.name != SHELL_TOOL_NAME:
            return FunctionCallOutput(
                call_id=call.call_id, output=f"unsupported tool {call.name!r}; use `shell`"
            )
        try:
            shell = parse_shell_arguments(call.arguments, self.settings.cwd)
        except ValueError as exc:
            return FunctionCallOutput(call_id=call.call_id, output=f"invalid arguments: {exc}")
        refusal, sandboxed = await self._permission(call.call_id, shell, emit)
        if refusal is not None:
            emit(
                CommandRejected(
                    call.call_id,
                    shell.command,
                    refusal,
                    str(shell.workdir),
                    declined_by_user=refusal == _USER_DECLINED,
                )
            )
            return FunctionCallOutput(call_id=call.call_id, output=f"command not run: {refusal}")
        emit(CommandStarted(call.call_id, shell.command, str(shell.workdir)))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

        def on_output(chunk: bytes) -> None:
            text = decoder.decode(chunk)
            if text:
                emit(CommandOutputDelta(call.call_id, text))

        runnable = shell
        if sandboxed is not None:
            # In a thread: finding the repositories to protect walks the writable roots.
            wrapped = await asyncio.to_thread(
                wrap_command,
                shell.command,
                mode=self.settings.sandbox_mode,
                cwd=shell.workdir,
                writable_roots=sandbox_writable_roots(self.settings.cwd),
                network=self.settings.network_access,
                bwrap=sandboxed,
            )
            runnable = dataclasses.replace(shell, command=wrapped)
        result = await run_shell(runnable, env=self.settings.shell_env, on_output=on_output)
        turn.metrics.tool_call(SHELL_TOOL_NAME, result.exit_code == 0, result.duration_s * 1000)
        emit(
            CommandFinished(
                call.call_id,
                shell.command,
                result.exit_code,
                result.output,
                result.duration_s,
                result.timed_out,
            )
        )
        return FunctionCallOutput(
            call_id=call.call_id,
            output=format_for_model(result, self.settings.truncation_limit_bytes()),
        )

    async def _sandbox_support(self) -> SandboxSupport:
        if self._sandbox is None:
            self._sandbox = await detect_sandbox()
        return self._sandbox

    async def _permission(
        self, call_id: str, shell: ShellCall, emit: Callable[[TurnEvent], None]
    ) -> tuple[str | None, str | None]:
        """``(refusal, bwrap)``: why the command may not run (told to the model), or ``None``
        and the bubblewrap binary to confine it with (``None`` = run it unconfined).

        ``danger-full-access`` runs commands as they are (``untrusted`` still asks before any
        that may write). In ``read-only`` and ``workspace-write`` the OS sandbox confines every
        command; without one, only commands known to just read run on their own, the rest need
        the approver's yes (and the user is told once that no sandbox is available, whether or not
        the first command needs approval).
        """
        settings = self.settings
        safe = is_known_safe_command(
            shell.command, at_workspace_root=shell.workdir == settings.cwd.resolve()
        )
        untrusted = "approval policy 'untrusted' asks first"
        if settings.sandbox_mode == "danger-full-access":
            if settings.approval_policy != "untrusted" or safe:
                return None, None
            return await self._ask(call_id, shell, untrusted, sandboxed=False), None
        support = await self._sandbox_support()
        if support.available and support.bwrap is not None:
            if settings.approval_policy != "untrusted" or safe:
                return None, support.bwrap
            refusal = await self._ask(call_id, shell, untrusted, sandboxed=True)
            return refusal, support.bwrap
        if not self._warned_no_sandbox:
            self._warned_no_sandbox = True
            emit(
                Warning(
                    f"no OS sandbox is available here ({support.reason}), so sandbox mode "
                    f"{settings.sandbox_mode!r} cannot be enforced: commands that may write "
                    "need approval"
                )
            )
        if safe:
            return None, None
        reason = f"sandbox mode {settings.sandbox_mode!r} cannot be enforced without an OS sandbox"
        return await self._ask(call_id, shell, reason, sandboxed=False), None

    async def _ask(
        self, call_id: str, shell: ShellCall, reason: str, *, sandboxed: bool
    ) -> str | None:
        """Why the command may not run, or ``None`` once the reviewer approved it."""
        mode = self.settings.sandbox_mode
        policy = self.settings.approval_policy
        if policy != "never":
            auto = automatic_decision(
                self.approvals_reviewer, sandboxed=sandboxed, sandbox_mode=mode
            )
            if auto is not None:
                return None if auto.approved else auto.reason
        if self._approver is None or policy == "never":
            return (
                f"{reason}, and no approval can be given here (approval policy "
                f"{policy!r}); run with --sandbox danger-full-access to allow it"
            )
        approved = await self._approver(
            ApprovalRequest(
                call_id,
                shell.command,
                shell.workdir,
                reason,
                sandboxed=sandboxed,
                sandbox_mode=mode,
            )
        )
        return None if approved else _USER_DECLINED
