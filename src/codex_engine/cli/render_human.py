"""The terminal renderer: assistant text on stdout, status, commands and the turn summary on
stderr (coloured with `cli.ansi`)."""

from __future__ import annotations

import json
import sys
from typing import TextIO, assert_never

from codex_engine.cli.ansi import AnsiConsole, escape
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
    TurnSummary,
    WarningEvent,
)
from codex_engine.core.tools.shell import describe
from codex_engine.protocol.items import Message, WebSearchCall

__all__ = ["HumanRenderer"]

#: How each plan step shows: a checkbox-like mark and its style.
_PLAN_MARKS = {
    "completed": ("[x]", "green"),
    "in_progress": ("[>]", "cyan"),
    "pending": ("[ ]", "dim"),
}


def _summary_line(summary: TurnSummary) -> str:
    usage = summary.usage
    parts = [
        f"tokens {usage.input_tokens:,} in ({usage.cached_input_tokens:,} cached), "
        f"{usage.output_tokens:,} out",
        f"{summary.requests} request{'s' if summary.requests != 1 else ''}",
    ]
    if summary.retries:
        parts.append(f"{summary.retries} retr{'ies' if summary.retries != 1 else 'y'}")
    if summary.tool_calls:
        parts.append(f"{summary.tool_calls} tool call{'s' if summary.tool_calls != 1 else ''}")
    if summary.time_to_first_token_s is not None:
        parts.append(f"first event {summary.time_to_first_token_s * 1000:.0f} ms")
    parts.append(f"{summary.duration_s:.2f}s")
    return " · ".join(parts)


class HumanRenderer:
    """The answer on stdout; status, commands and summary on stderr so pipes stay clean.

    When stdout is not a terminal it receives exactly the turn's final assistant message, once
    the turn completes (as the reference does): a retried stream can never leave a splice of two
    answers there, and a failed turn leaves it empty. Earlier messages of the turn go to stderr.
    On a terminal the text streams as it arrives; if the completed message differs from what was
    streamed (a retry after a disconnect produced another answer), a notice goes to stderr and
    the final message is printed whole.
    """

    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        *,
        stream: bool | None = None,
        color: bool | None = None,
    ) -> None:
        self._out = stdout or sys.stdout
        # color: True/False for --color always/never; None looks at the environment and terminal.
        self._err = AnsiConsole(stderr or sys.stderr, color=color)
        self._stream = _is_terminal(self._out) if stream is None else stream
        self._at_line_start = True
        # stream mode: the deltas of the message in progress, as they were shown
        self._streamed = ""
        # pipe mode: the last completed message, until the turn shows whether it is the final one
        self._pending: str | None = None

    def _text(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
        if text:
            self._at_line_start = text.endswith("\n")

    def _end_text_line(self) -> None:
        if not self._at_line_start:
            self._text("\n")

    def _before_status(self) -> None:
        """Make room for a status line: end the streamed line, or show a message that was not
        the last one after all (on stderr: only the final answer goes to a pipe)."""
        if self._stream:
            self._end_text_line()
        elif self._pending is not None:
            self._err.print(self._pending, markup=False)
            self._pending = None

    def session_started(self, thread_id: str, model: str, provider: str, cwd: str) -> None:
        self._err.print(
            f"[dim]codex-engine · model {escape(model)} · provider {escape(provider)} · "
            f"{escape(cwd)} · session {thread_id}[/dim]"
        )

    def warning(self, message: str) -> None:
        self._err.print(f"[yellow]warning:[/yellow] {escape(message)}")

    def fatal(self, message: str) -> None:
        self._before_status()
        self._err.print(f"[red]error:[/red] {escape(message)}")

    def _message_completed(self, text: str) -> None:
        if not self._stream:
            self._before_status()
            self._pending = text
            return
        streamed, self._streamed = self._streamed, ""
        if text.startswith(streamed):
            self._text(text[len(streamed) :])  # usually nothing; all of it if nothing streamed
        else:
            self._end_text_line()
            self._err.print(
                "[yellow]note:[/yellow] the answer changed when the stream was retried; "
                "the complete final answer follows"
            )
            self._text(text)
        self._end_text_line()

    def _final_answer(self, text: str | None) -> None:
        if self._stream:
            self._end_text_line()
            return
        self._pending = None
        if text is not None:
            self._text(text if text.endswith("\n") else text + "\n")

    def event(self, event: TurnEvent) -> None:
        match event:
            case AgentMessageDelta():
                if self._stream:
                    self._streamed += event.delta
                    self._text(event.delta)
            case ItemCompleted(item=Message(role="assistant") as message):
                self._message_completed(message.text())
            case ItemCompleted(item=WebSearchCall(action=action)):
                query = (action or {}).get("query") or "(no query)"
                self._before_status()
                self._err.print(f"[cyan]web search:[/cyan] {escape(str(query))}")
            case ContextCompacted():
                self._before_status()
                how = "automatically" if event.automatic else "on request"
                self._err.print(f"[dim]context compacted {how} ({len(event.summary)} chars)[/dim]")
            case CommandStarted():
                self._before_status()
                self._err.print(f"[cyan]$[/cyan] {escape(describe(event.command))}")
            case CommandFinished():
                style = "green" if event.exit_code == 0 else "red"
                note = " (timed out)" if event.timed_out else ""
                self._err.print(
                    f"[{style}]  exit {event.exit_code}{note}[/{style}] [dim]in "
                    f"{event.duration_s:.2f}s[/dim]"
                )
            case CommandRejected():
                self._before_status()
                self._err.print(
                    f"[yellow]  not run:[/yellow] {escape(describe(event.command))} — "
                    f"{escape(event.reason)}"
                )
            case PatchStarted():
                self._before_status()
                for change in event.changes:
                    target = f" → {change.move_path}" if change.move_path else ""
                    self._err.print(
                        f"[cyan]{change.kind}:[/cyan] {escape(change.path)}{escape(target)}"
                    )
            case PatchFinished(status="completed"):
                self._err.print("[green]  patch applied[/green]")
            case PatchFinished():
                self._before_status()
                self._err.print(f"[yellow]  patch {event.status}:[/yellow] {escape(event.output)}")
            case McpToolCallStarted():
                self._before_status()
                args = json.dumps(event.arguments, ensure_ascii=False) if event.arguments else ""
                self._err.print(
                    f"[cyan]tool[/cyan] {escape(f'{event.server}.{event.tool}({args})')}"
                )
            case McpToolCallFinished():
                if event.failed:
                    why = (
                        event.error.splitlines()[-1].strip() if event.error else "the tool says so"
                    )
                    self._err.print(f"[red]  failed:[/red] {escape(why)}")
                else:
                    self._err.print(f"[green]  ok[/green] [dim]in {event.duration_s:.2f}s[/dim]")
            case ImageViewed():
                self._before_status()
                self._err.print(f"[cyan]viewed image:[/cyan] {escape(event.path)}")
            case PlanUpdated():
                self._before_status()
                self._err.print(
                    "[cyan]plan[/cyan]"
                    + (f" [dim]— {escape(event.explanation)}[/dim]" if event.explanation else "")
                )
                for step in event.steps:
                    mark, style = _PLAN_MARKS[step.status]
                    self._err.print(f"  [{style}]{escape(mark)}[/{style}] {escape(step.step)}")
            case Retrying():
                # stdout is left alone: a newline there would become part of the streamed answer
                self._err.print(
                    f"[yellow]Reconnecting… {event.retry}/{event.max_retries} in "
                    f"{event.delay_s:.1f}s:[/yellow] {escape(event.message)}"
                )
            case WarningEvent():
                self.warning(event.message)
            case ModelRerouted():
                self._before_status()
                self._err.print(
                    f"[yellow]model rerouted:[/yellow] {escape(event.from_model)} → "
                    f"{escape(event.to_model)}"
                )
            case EnteredReviewMode():
                self._before_status()
                self._err.print(f"[cyan]reviewing[/cyan] {escape(event.hint)}")
            case ExitedReviewMode():
                self._before_status()
                done = "review finished" if event.review is not None else "review interrupted"
                self._err.print(f"[dim]{done}[/dim]")
            case TurnCompleted():
                self._final_answer(event.last_agent_message)
                self._err.print(f"[dim]turn completed · {_summary_line(event.summary)}[/dim]")
                self._err.print(f"[dim]runtime · {escape(event.summary.runtime.render())}[/dim]")
            case TurnFailed():
                self.fatal(str(event.error))
                self._err.print(f"[dim]turn failed · {_summary_line(event.summary)}[/dim]")
            case TurnInterrupted():
                self._before_status()
                self._err.print(
                    f"[yellow]turn interrupted[/yellow] · {_summary_line(event.summary)}"
                )
            case (
                TurnStarted()
                | ItemStarted()
                | ItemCompleted()  # other items: a command shows as itself, reasoning not at all
                | ReasoningDelta()
                | ReasoningTextDelta()
                | ReasoningPartAdded()
                | CommandOutputDelta()
                | TokenCount()
                | RateLimitsUpdated()
            ):
                pass  # not shown in the terminal
            case _:
                assert_never(event)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: treat it as a pipe
        return False
