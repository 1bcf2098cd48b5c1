"""``exec --json``: one JSON object per line on stdout, in the reference's event types."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO, assert_never

from codex_engine.core.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandOutputDelta,
    CommandRejected,
    CommandStarted,
    ContextCompacted,
    EnteredReviewMode,
    ExitedReviewMode,
    FileChange,
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
    TurnSummary,
    WarningEvent,
)
from codex_engine.core.tools.shell import describe
from codex_engine.protocol.items import Message, Reasoning, WebSearchCall

__all__ = ["JsonRenderer", "mcp_item"]


def mcp_item(
    item_id: str, event: McpToolCallStarted | McpToolCallFinished, status: str
) -> dict[str, Any]:
    """An MCP tool call as the reference's ``exec --json`` shows it (``mcp_tool_call``)."""
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    if isinstance(event, McpToolCallFinished):
        if event.result is not None:
            result = {
                "content": event.result.get("content", []),
                "structured_content": event.result.get("structuredContent"),
            }
        if event.error is not None:
            error = {"message": event.error}
    return {
        "id": item_id,
        "type": "mcp_tool_call",
        "server": event.server,
        "tool": event.tool,
        "arguments": event.arguments if event.arguments is not None else {},
        "result": result,
        "error": error,
        "status": status,
    }


class JsonRenderer:
    """One JSON object per line on stdout, shaped like the reference's ``exec --json``.

    Only the reference's event types appear (``thread.started``, ``turn.started``,
    ``item.*``, ``turn.completed``, ``turn.failed``, ``error``), so a strict consumer accepts
    every line; what we add (the turn summary, the runtime counters, compactions, whether a
    failed turn was interrupted) rides as extra fields of those events.
    """

    def __init__(self, stdout: TextIO | None = None) -> None:
        self._out = stdout or sys.stdout
        self._next_id = 0
        self._commands: dict[str, str] = {}
        self._mcp_calls: dict[str, str] = {}
        self._compactions: list[dict[str, Any]] = []
        self._patches: dict[str, str] = {}
        #: The turn's plan as a ``todo_list`` item: started by the first update, updated by the
        #: next ones, completed when the turn ends (as the reference shows it).
        self._todo: dict[str, Any] | None = None

    def _emit(self, payload: dict[str, Any]) -> None:
        # Compact separators, as the reference prints its lines.
        self._out.write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._out.flush()

    def _item_id(self) -> str:
        value = f"item_{self._next_id}"
        self._next_id += 1
        return value

    def session_started(self, thread_id: str, model: str, provider: str, cwd: str) -> None:
        self._emit({"type": "thread.started", "thread_id": thread_id})

    def _command_done(
        self,
        call_id: str,
        command: Sequence[str],
        output: str,
        exit_code: int | None,
        status: str,
    ) -> None:
        item_id = self._commands.pop(call_id, None) or self._item_id()
        self._emit(
            {
                "type": "item.completed",
                "item": {
                    "id": item_id,
                    "type": "command_execution",
                    "command": describe(command),
                    "aggregated_output": output,
                    "exit_code": exit_code,
                    "status": status,
                },
            }
        )

    def _file_change(
        self, kind: str, item_id: str, changes: Sequence[FileChange], status: str
    ) -> None:
        listed = [{"path": c.path, "kind": c.kind} for c in changes]
        item = {"id": item_id, "type": "file_change", "changes": listed, "status": status}
        self._emit({"type": kind, "item": item})

    def warning(self, message: str) -> None:
        # The reference has no warning event: it reports one as a completed `error` item.
        self._emit(
            {
                "type": "item.completed",
                "item": {"id": self._item_id(), "type": "error", "message": message},
            }
        )

    def _extras(self, summary: TurnSummary) -> dict[str, Any]:
        extras: dict[str, Any] = {"summary": _summary(summary)}
        if self._compactions:
            extras["context_compactions"], self._compactions = self._compactions, []
        return extras

    def _close_todo(self) -> None:
        if self._todo is not None:
            self._emit({"type": "item.completed", "item": self._todo})
            self._todo = None

    def fatal(self, message: str) -> None:
        self._emit({"type": "error", "message": message})

    def event(self, event: TurnEvent) -> None:
        match event:
            case TurnStarted():
                self._emit({"type": "turn.started"})
            case ItemCompleted(item=Message(role="assistant") as message):
                self._emit(
                    {
                        "type": "item.completed",
                        "item": {
                            "id": self._item_id(),
                            "type": "agent_message",
                            "text": message.text(),
                        },
                    }
                )
            case ItemCompleted(item=Reasoning(summary=parts)):
                text = "".join(str(part.get("text", "")) for part in parts)
                if text:
                    self._emit(
                        {
                            "type": "item.completed",
                            "item": {"id": self._item_id(), "type": "reasoning", "text": text},
                        }
                    )
            case ItemCompleted(item=WebSearchCall(action=action)):
                query = (action or {}).get("query")
                self._emit(
                    {
                        "type": "item.completed",
                        "item": {"id": self._item_id(), "type": "web_search", "query": query},
                    }
                )
            case CommandStarted():
                item_id = self._item_id()
                self._commands[event.call_id] = item_id
                self._emit(
                    {
                        "type": "item.started",
                        "item": {
                            "id": item_id,
                            "type": "command_execution",
                            "command": describe(event.command),
                            "aggregated_output": "",
                            "exit_code": None,
                            "status": "in_progress",
                        },
                    }
                )
            case CommandFinished():
                self._command_done(
                    event.call_id,
                    event.command,
                    event.output,
                    event.exit_code,
                    "completed" if event.exit_code == 0 else "failed",
                )
            case CommandRejected():
                self._command_done(event.call_id, event.command, event.reason, None, "declined")
            case PatchStarted():
                started = self._patches[event.call_id] = self._item_id()
                self._file_change("item.started", started, event.changes, "in_progress")
            case PatchFinished():
                patch_id = self._patches.pop(event.call_id, None) or self._item_id()
                # The reference's file_change item ends only completed or failed.
                status = "completed" if event.status == "completed" else "failed"
                self._file_change("item.completed", patch_id, event.changes, status)
            case McpToolCallStarted():
                started = self._mcp_calls[event.call_id] = self._item_id()
                self._emit(
                    {"type": "item.started", "item": mcp_item(started, event, "in_progress")}
                )
            case McpToolCallFinished():
                done = self._mcp_calls.pop(event.call_id, "") or self._item_id()
                status = "failed" if event.failed else "completed"
                self._emit({"type": "item.completed", "item": mcp_item(done, event, status)})
            case PlanUpdated():
                steps = [
                    {"text": s.step, "completed": s.status == "completed"} for s in event.steps
                ]
                kind = "item.started" if self._todo is None else "item.updated"
                todo_id = self._item_id() if self._todo is None else self._todo["id"]
                self._todo = {"id": todo_id, "type": "todo_list", "items": steps}
                self._emit({"type": kind, "item": self._todo})
            case Retrying():
                self._emit(
                    {
                        "type": "error",
                        "message": f"Reconnecting... {event.retry}/{event.max_retries}: "
                        f"{event.message}",
                    }
                )
            case WarningEvent():
                self.warning(event.message)
            case ModelRerouted():
                # As the reference's exec: a reroute is reported as a completed `error` item.
                self.warning(
                    f"model rerouted: {event.from_model} -> {event.to_model} ({event.reason})"
                )
            case EnteredReviewMode() | ExitedReviewMode():
                pass  # the review's result follows as the turn's agent message
            case ContextCompacted():
                # No such event type in the reference: reported with the turn's end.
                self._compactions.append({"automatic": event.automatic})
            case TurnCompleted():
                self._close_todo()
                self._emit(
                    {
                        "type": "turn.completed",
                        "usage": _usage(event.summary),
                        **self._extras(event.summary),
                        "runtime": event.summary.runtime.to_json(),
                    }
                )
            case TurnFailed():
                # As the reference: the error on its own line, then the failed turn.
                self._close_todo()
                self._emit({"type": "error", "message": str(event.error)})
                self._emit(
                    {
                        "type": "turn.failed",
                        "error": {"message": str(event.error)},
                        **self._extras(event.summary),
                    }
                )
            case TurnInterrupted():
                # The reference's vocabulary has no interrupted turn: a failed one, marked.
                self._close_todo()
                self._emit(
                    {
                        "type": "turn.failed",
                        "error": {"message": "turn interrupted"},
                        "interrupted": True,
                        **self._extras(event.summary),
                    }
                )
            case (
                ItemStarted()
                | ItemCompleted()  # a function call: shown as the command or MCP call it becomes
                | AgentMessageDelta()
                | ReasoningDelta()
                | ReasoningTextDelta()
                | ReasoningPartAdded()
                | CommandOutputDelta()
                | TokenCount()
                | RateLimitsUpdated()
                | ImageViewed()
            ):
                pass  # the reference's exec --json has no line for these
            case _:
                assert_never(event)


def _usage(summary: TurnSummary) -> dict[str, int]:
    """The reference's ``usage`` fields, in its order (no cache-write count is reported by the
    Responses API, so that one is 0, as the reference prints it)."""
    usage = summary.usage
    return {
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_input_tokens": 0,
        "output_tokens": usage.output_tokens,
        "reasoning_output_tokens": usage.reasoning_output_tokens,
    }


def _summary(summary: TurnSummary) -> dict[str, Any]:
    """Our own per-turn counters (an extra field of the turn's end event)."""
    return {
        "requests": summary.requests,
        "retries": summary.retries,
        "tool_calls": summary.tool_calls,
        "stream_events": summary.stream_events,
        "duration_ms": round(summary.duration_s * 1000, 1),
        "time_to_first_event_ms": (
            round(summary.time_to_first_token_s * 1000, 1)
            if summary.time_to_first_token_s is not None
            else None
        ),
        "usage": _usage(summary) | {"total_tokens": summary.usage.total_tokens},
    }
