"""Turns a session's :data:`TurnEvent` stream into app-server notifications for one turn.

Pure: ids and times come from injected callables. Item ids stay the same from ``item/started``
through the deltas to ``item/completed``. Deltas are a preview: after a stream retry they go on
after the text already sent, so a retried answer that differs leaves them spliced. The text of
``item/completed`` is the final one, and a ``warning`` naming the item says when they differ.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal, assert_never

import msgspec

from codex_engine.app_server.wire import (
    ANSWER_PHASES,
    codex_error_info,
    command_actions,
    command_text,
    file_change_item,
    git_diff,
    plan_type_wire,
    rate_limits_wire,
    turn_error,
    usage_wire,
    web_search_action,
)
from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    ContextCompacted,
    EnteredReviewMode,
    ExitedReviewMode,
    ImageViewed,
    ItemCompleted,
    ItemStarted,
    McpToolCallFinished,
    McpToolCallStarted,
    ModelRerouted,
    PatchFinished,
    PatchStarted,
    PlanUpdated,
    RateLimitsUpdated,
    ReasoningDelta,
    ReasoningPartAdded,
    ReasoningTextDelta,
    Retrying,
    TokenCount,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    TurnStarted,
    WarningEvent,
)
from codex_engine.protocol.app_server import (
    AccountRateLimitsUpdatedNotification,
    AgentMessageItem,
    CommandExecutionItem,
    ContextCompactionItem,
    ErrorNotification,
    ImageViewItem,
    ItemCompletedNotification,
    ItemStartedNotification,
    ReasoningItem,
    ThreadItem,
    ThreadTokenUsage,
    ThreadTokenUsageUpdatedNotification,
    TurnError,
    TurnPlanStep,
    TurnPlanUpdatedNotification,
    UserMessageItem,
    WarningNotification,
    WebSearchItem,
)
from codex_engine.protocol.app_server.items import EnteredReviewModeItem, ExitedReviewModeItem
from codex_engine.protocol.app_server.mcp import (
    McpToolCallError,
    McpToolCallItem,
    McpToolCallResult,
)
from codex_engine.protocol.app_server.notifications import ModelReroutedNotification
from codex_engine.protocol.items import Message, Reasoning, WebSearchCall

__all__ = [
    "Note",
    "TurnProjector",
    "codex_error_info",
    "command_actions",
    "command_text",
    "plan_type_wire",
    "rate_limits_wire",
    "turn_error",
]

_PLAN_STATUS: dict[str, Literal["pending", "inProgress", "completed"]] = {
    "pending": "pending",
    "in_progress": "inProgress",
    "completed": "completed",
}

#: One notification: method and params.
Note = tuple[str, dict[str, Any]]

#: What ``exitedReviewMode`` says when the reviewer gave no answer (interrupted, failed).
REVIEW_WITHOUT_RESULT = "The review ended before the reviewer gave a result."


class TurnProjector:
    """Per-turn state: which items are open, and the items completed so far."""

    def __init__(
        self,
        thread_id: str,
        turn_id: str,
        *,
        context_window: int | None,
        clock_ms: Callable[[], int],
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.context_window = context_window
        self.completed: list[ThreadItem] = []
        self._clock_ms = clock_ms
        self._new_id = new_id
        self._message_id: str | None = None
        self._message_text: list[str] = []
        self._reasoning_id: str | None = None
        #: Summary text by part index, and raw reasoning text by content index, as streamed.
        self._reasoning_text: dict[int, str] = {}
        self._reasoning_raw: dict[int, str] = {}
        self._commands: dict[str, CommandExecutionItem] = {}
        #: The turn's file changes so far, as git-style diffs (``turn/diff/updated``).
        self._diffs: list[str] = []
        self._mcp_calls: dict[str, McpToolCallItem] = {}
        #: A stream of this turn broke off and was sent again (deltas may not be the text).
        self._retried = False

    def new_item_id(self) -> str:
        return self._new_id()

    def open_items(self) -> int:
        """How many items have started and not completed yet."""
        open_text = (self._message_id is not None) + (self._reasoning_id is not None)
        return open_text + len(self._commands) + len(self._mcp_calls)

    # -- item lifecycle ------------------------------------------------------------------------

    def started(self, item: ThreadItem) -> Note:
        params = ItemStartedNotification(
            thread_id=self.thread_id,
            turn_id=self.turn_id,
            item=item,
            started_at_ms=self._clock_ms(),
        )
        return "item/started", params.to_wire()

    def finished(self, item: ThreadItem) -> Note:
        self.completed.append(item)
        params = ItemCompletedNotification(
            thread_id=self.thread_id,
            turn_id=self.turn_id,
            item=item,
            completed_at_ms=self._clock_ms(),
        )
        return "item/completed", params.to_wire()

    def on_event(self, event: TurnEvent) -> list[Note]:
        """Notifications for one event; terminal events are handled by :meth:`close_open_items`."""
        notes: list[Note] = []
        match event:
            case AgentMessageDelta():
                if self._message_id is None:
                    self._message_id = self._new_id()
                    notes.append(self.started(AgentMessageItem(id=self._message_id, text="")))
                self._message_text.append(event.delta)
                # Deltas are most of the traffic: a plain dict (AgentMessageDeltaNotification's
                # wire shape) skips a model round trip per token.
                delta = {
                    "threadId": self.thread_id,
                    "turnId": self.turn_id,
                    "itemId": self._message_id,
                    "delta": event.delta,
                }
                notes.append(("item/agentMessage/delta", delta))
            case ReasoningDelta():
                notes.extend(self._reasoning_started())
                index = event.summary_index or 0
                self._reasoning_text[index] = self._reasoning_text.get(index, "") + event.delta
                summary_delta = {
                    **self._reasoning_ids(),
                    "delta": event.delta,
                    "summaryIndex": index,
                }
                notes.append(("item/reasoning/summaryTextDelta", summary_delta))
            case ReasoningTextDelta():
                notes.extend(self._reasoning_started())
                index = event.content_index or 0
                self._reasoning_raw[index] = self._reasoning_raw.get(index, "") + event.delta
                text_delta = {**self._reasoning_ids(), "delta": event.delta, "contentIndex": index}
                notes.append(("item/reasoning/textDelta", text_delta))
            case ReasoningPartAdded():
                notes.extend(self._reasoning_started())
                part = {**self._reasoning_ids(), "summaryIndex": event.summary_index or 0}
                notes.append(("item/reasoning/summaryPartAdded", part))
            case ModelRerouted():
                rerouted = ModelReroutedNotification(
                    thread_id=self.thread_id,
                    turn_id=self.turn_id,
                    from_model=event.from_model,
                    to_model=event.to_model,
                    reason=event.reason,
                )
                notes.append(("model/rerouted", rerouted.to_wire()))
            case EnteredReviewMode():
                entered = EnteredReviewModeItem(id=self._new_id(), review=event.hint)
                notes += [self.started(entered), self.finished(entered)]
            case ExitedReviewMode():
                review = event.review if event.review is not None else REVIEW_WITHOUT_RESULT
                exited = ExitedReviewModeItem(id=self._new_id(), review=review)
                notes += [self.started(exited), self.finished(exited)]
            case ItemCompleted():
                notes.extend(self._item_completed(event))
            case CommandStarted():
                item = CommandExecutionItem(
                    id=event.call_id,
                    command=command_text(event.command),
                    cwd=event.cwd,
                    process_id=event.process_id,
                    source="agent" if event.process_id is None else "unifiedExecStartup",
                    status="inProgress",
                    command_actions=command_actions(event.command),
                )
                self._commands[event.call_id] = item
                notes.append(self.started(item))
            case CommandOutputDelta():
                output = {
                    "threadId": self.thread_id,
                    "turnId": self.turn_id,
                    "itemId": event.call_id,
                    "delta": event.chunk,
                }
                notes.append(("item/commandExecution/outputDelta", output))
            case ContextCompacted():
                compaction = ContextCompactionItem(id=self._new_id())
                notes.append(self.started(compaction))
                notes.append(self.finished(compaction))
            case CommandFinished():
                begun = self._commands.pop(event.call_id, None)
                base = begun or CommandExecutionItem(
                    id=event.call_id,
                    command=command_text(event.command),
                    cwd="",
                    status="inProgress",
                    command_actions=command_actions(event.command),
                )
                if begun is None:
                    notes.append(self.started(base))
                done = msgspec.structs.replace(
                    base,
                    status="completed" if event.exit_code == 0 else "failed",
                    aggregated_output=event.output,
                    exit_code=event.exit_code,
                    duration_ms=int(event.duration_s * 1000),
                )
                notes.append(self.finished(done))
            case CommandRejected():
                item = CommandExecutionItem(
                    id=event.call_id,
                    command=command_text(event.command),
                    cwd="",
                    status="declined",
                    command_actions=command_actions(event.command),
                )
                notes.append(self.started(item))
                notes.append(self.finished(item))
            case PatchStarted():
                notes.append(self.started(file_change_item(event.call_id, event.changes)))
            case PatchFinished():
                patch = file_change_item(event.call_id, event.changes, event.status)
                if event.status == "declined":  # never started: nothing was written
                    notes.append(self.started(patch))
                notes.append(self.finished(patch))
                if event.status == "completed":
                    self._diffs.extend(git_diff(change) for change in event.changes)
                    diff = {"threadId": self.thread_id, "turnId": self.turn_id}
                    notes.append(("turn/diff/updated", {**diff, "diff": "".join(self._diffs)}))
            case McpToolCallStarted() | McpToolCallFinished():
                notes.extend(self._mcp_call(event))
            case ImageViewed():
                viewed = ImageViewItem(id=event.call_id, path=event.path)
                notes.append(self.started(viewed))
                notes.append(self.finished(viewed))
            case PlanUpdated():
                # The reference reports an update_plan call only as the turn's plan, no item.
                plan = TurnPlanUpdatedNotification(
                    thread_id=self.thread_id,
                    turn_id=self.turn_id,
                    explanation=event.explanation,
                    plan=[
                        TurnPlanStep(step=s.step, status=_PLAN_STATUS[s.status])
                        for s in event.steps
                    ],
                )
                notes.append(("turn/plan/updated", plan.to_wire()))
            case Retrying():
                self._retried = True
                error = ErrorNotification(
                    thread_id=self.thread_id,
                    turn_id=self.turn_id,
                    error=TurnError(
                        message=f"{event.message} (retry {event.retry}/{event.max_retries})",
                        codex_error_info={"responseStreamDisconnected": {"httpStatusCode": None}},
                    ),
                    will_retry=True,
                )
                notes.append(("error", error.to_wire()))
            case TokenCount():
                usage = ThreadTokenUsageUpdatedNotification(
                    thread_id=self.thread_id,
                    turn_id=self.turn_id,
                    token_usage=ThreadTokenUsage(
                        total=usage_wire(event.total),
                        last=usage_wire(event.last),
                        model_context_window=self.context_window,
                    ),
                )
                notes.append(("thread/tokenUsage/updated", usage.to_wire()))
            case RateLimitsUpdated():
                limits = AccountRateLimitsUpdatedNotification(
                    rate_limits=rate_limits_wire(event.snapshot)
                )
                notes.append(("account/rateLimits/updated", limits.to_wire()))
            case WarningEvent():
                warning = WarningNotification(message=event.message, thread_id=self.thread_id)
                notes.append(("warning", warning.to_wire()))
            case TurnStarted() | ItemStarted() | TurnCompleted() | TurnFailed() | TurnInterrupted():
                pass  # the turn/start handler reports these, and items start with their deltas
            case _:
                assert_never(event)
        return notes

    def _reasoning_started(self) -> list[Note]:
        if self._reasoning_id is not None:
            return []
        self._reasoning_id = self._new_id()
        return [self.started(ReasoningItem(id=self._reasoning_id))]

    def _reasoning_ids(self) -> dict[str, Any]:
        return {"threadId": self.thread_id, "turnId": self.turn_id, "itemId": self._reasoning_id}

    def _streamed_reasoning(self) -> tuple[list[str], list[str]]:
        """The summary parts and raw content parts streamed so far, in index order."""
        summary = [self._reasoning_text[i] for i in sorted(self._reasoning_text)]
        content = [self._reasoning_raw[i] for i in sorted(self._reasoning_raw)]
        return summary, content

    def _item_completed(self, event: ItemCompleted) -> list[Note]:
        item = event.item
        notes: list[Note] = []
        if isinstance(item, Message) and item.role == "assistant":
            item_id = self._message_id
            if item_id is None:
                item_id = self._new_id()
                notes.append(self.started(AgentMessageItem(id=item_id, text="")))
            phase = item.extra.get("phase")
            text = item.text()
            if self._retried and self._message_id is not None:
                streamed = "".join(self._message_text)
                if streamed != text:
                    notes.append(self._diverged(item_id))
            notes.append(
                self.finished(
                    AgentMessageItem(
                        id=item_id, text=text, phase=phase if phase in ANSWER_PHASES else None
                    )
                )
            )
            self._message_id = None
            self._message_text = []
        elif isinstance(item, Message) and item.role == "user":  # a review's prompt
            said: dict[str, Any] = {"type": "text", "text": item.text(), "text_elements": []}
            user = UserMessageItem(id=self._new_id(), content=[said])
            notes += [self.started(user), self.finished(user)]
        elif isinstance(item, Reasoning):
            item_id = self._reasoning_id
            if item_id is None:
                item_id = self._new_id()
                notes.append(self.started(ReasoningItem(id=item_id)))
            summary = [str(part.get("text", "")) for part in item.summary]
            content = [str(part.get("text", "")) for part in item.content or []]
            streamed_summary, streamed_content = self._streamed_reasoning()
            summary = summary or streamed_summary
            content = content or streamed_content
            notes.append(self.finished(ReasoningItem(id=item_id, summary=summary, content=content)))
            self._reasoning_id = None
            self._reasoning_text, self._reasoning_raw = {}, {}
        elif isinstance(item, WebSearchCall):
            action = item.action or {}
            query = action.get("query")
            search = WebSearchItem(
                id=item.id or self._new_id(),
                query=query if isinstance(query, str) else "",
                action=web_search_action(item.action),
            )
            notes.append(self.started(search))
            notes.append(self.finished(search))
        return notes

    def _mcp_call(self, event: McpToolCallStarted | McpToolCallFinished) -> list[Note]:
        if isinstance(event, McpToolCallStarted):
            item = McpToolCallItem(
                id=event.call_id,
                server=event.server,
                tool=event.tool,
                status="inProgress",
                arguments=event.arguments,
            )
            self._mcp_calls[event.call_id] = item
            return [self.started(item)]
        notes: list[Note] = []
        begun = self._mcp_calls.pop(event.call_id, None)
        if begun is None:
            begun = McpToolCallItem(
                id=event.call_id, server=event.server, tool=event.tool, status="inProgress"
            )
            notes.append(self.started(begun))
        result = event.result
        done = msgspec.structs.replace(
            begun,
            status="failed" if event.failed else "completed",
            result=McpToolCallResult(
                content=list(result.get("content", [])),
                structured_content=result.get("structuredContent"),
                meta=result.get("_meta"),
            )
            if result is not None
            else None,
            error=McpToolCallError(message=event.error) if event.error else None,
            duration_ms=int(event.duration_s * 1000),
        )
        notes.append(self.finished(done))
        return notes

    def _diverged(self, item_id: str) -> Note:
        warning = WarningNotification(
            message=(
                f"the answer changed when the stream was retried: the deltas of item {item_id} "
                "mix both answers; item/completed carries its final text"
            ),
            thread_id=self.thread_id,
        )
        return "warning", warning.to_wire()

    def close_open_items(self) -> list[Note]:
        """Complete items a turn left open (interrupted or failed mid-stream) with what arrived."""
        notes: list[Note] = []
        if self._message_id is not None:
            text = "".join(self._message_text)
            notes.append(self.finished(AgentMessageItem(id=self._message_id, text=text)))
            self._message_id = None
        if self._reasoning_id is not None:
            summary, content = self._streamed_reasoning()
            reasoning = ReasoningItem(id=self._reasoning_id, summary=summary, content=content)
            notes.append(self.finished(reasoning))
            self._reasoning_id = None
        for item in self._commands.values():
            notes.append(self.finished(msgspec.structs.replace(item, status="failed")))
        self._commands.clear()
        for call in self._mcp_calls.values():
            notes.append(self.finished(msgspec.structs.replace(call, status="failed")))
        self._mcp_calls.clear()
        return notes
