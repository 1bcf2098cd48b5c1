"""A review turn: a reviewer session (the review rubric as its instructions, none of the
thread's history or AGENTS.md, no web search) looks at the change; its answer comes back to
the thread as the review's result.

The reviewer's own messages are not shown: the result is (``ExitedReviewMode``, then one
assistant message), and the thread's history keeps the result, not the reviewer's work.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec

from codex_engine.core.events import (
    AgentMessageDelta,
    EnteredReviewMode,
    ExitedReviewMode,
    ItemCompleted,
    ItemStarted,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnInterrupted,
    TurnStarted,
)
from codex_engine.core.review import (
    ReviewOutput,
    ReviewTarget,
    find_merge_base,
    parse_review_output,
    render_review_output,
    review_hint,
    review_instructions,
    review_prompt,
)
from codex_engine.core.session import Session
from codex_engine.protocol.items import ContentPart, Message, user_message

__all__ = ["INTERRUPTED_REVIEW", "run_review"]

#: The assistant message a review that did not finish leaves in the thread.
INTERRUPTED_REVIEW = "The review did not finish. Start it again and let it complete."


def _results_message(results: str | None) -> Message:
    """What the thread's model later reads about the review (as the user's action)."""
    if results is None:
        body = (
            "<user_action>\n  <context>The user started a code review, which was interrupted "
            "before it produced a result.</context>\n  <action>review</action>\n"
            "  <results>\n  None.\n  </results>\n</user_action>"
        )
    else:
        body = (
            "<user_action>\n  <context>The user ran a code review; its result follows. Use it "
            "if the user asks about the review or wants its findings fixed.</context>\n"
            f"  <action>review</action>\n  <results>\n{results}\n  </results>\n</user_action>"
        )
    return user_message(body)


def _assistant(text: str) -> Message:
    return Message(role="assistant", content=[ContentPart(type="output_text", text=text)])


def reviewer_session(session: Session) -> Session:
    """The reviewer: the thread's model, tools and sandbox, with the review rubric as its only
    instructions (no AGENTS.md), no web search, and no rollout of its own."""
    settings = msgspec.structs.replace(
        session.settings,
        base_instructions=review_instructions(),
        user_instructions=None,
        web_search="disabled",
    )
    deps = msgspec.structs.replace(session.deps, recorder=None, load_warnings=())
    return Session(settings, deps)


def _record(session: Session, kind: str, turn_id: str, **fields: object) -> None:
    """An event of the review turn in the thread's rollout (a resumed thread shows the turn)."""
    if session.recorder is not None:
        session.recorder.record("event_msg", {"type": kind, "turn_id": turn_id, **fields})


def _hidden(event: TurnEvent) -> bool:
    """The reviewer's own messages: its answer is shown as the review's result instead."""
    if isinstance(event, AgentMessageDelta):
        return True
    if isinstance(event, ItemStarted | ItemCompleted):
        item = event.item
        return isinstance(item, Message) and item.role == "assistant"
    return False


async def run_review(session: Session, target: ReviewTarget) -> AsyncIterator[TurnEvent]:
    """Run one review turn for ``session``'s thread; the events end with the turn's end.

    ``TurnStarted`` comes first, then ``EnteredReviewMode``, the reviewer's prompt (a user
    message), its work (commands, reasoning...), ``ExitedReviewMode``, the result as an
    assistant message, and the reviewer's completed/failed/interrupted turn.
    """
    merge_base = None
    if target.kind == "baseBranch":
        merge_base = await find_merge_base(session.settings.cwd, target.branch)
    reviewer = reviewer_session(session)
    prompt = review_prompt(target, merge_base=merge_base)
    events = reviewer.run_turn(prompt)
    session.ensure_prefix()
    session.delegate = reviewer
    output: ReviewOutput | None = None
    final: TurnEvent | None = None
    turn_id = ""
    try:
        async for event in events:
            if isinstance(event, TurnStarted):
                turn_id = event.turn_id
                hint = review_hint(target)
                _record(session, "entered_review_mode", turn_id, review=hint)
                yield event
                yield EnteredReviewMode(hint)
                # What the reviewer was asked, shown as the reference shows it (a user message).
                yield ItemCompleted(user_message(prompt))
            elif isinstance(event, TurnCompleted):
                if event.last_agent_message is not None:
                    output = parse_review_output(event.last_agent_message)
                final = event
            elif isinstance(event, TurnFailed | TurnInterrupted):
                final = event
            elif not _hidden(event):
                yield event
    finally:
        session.delegate = None
        close = getattr(events, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
    rendered = render_review_output(output) if output is not None else None
    answer = _assistant(rendered if rendered is not None else INTERRUPTED_REVIEW)
    _record(session, "exited_review_mode", turn_id, review=rendered)
    session.remember([_results_message(rendered), answer])
    status = (
        "completed"
        if isinstance(final, TurnCompleted)
        else "failed"
        if isinstance(final, TurnFailed)
        else "interrupted"
    )
    _record(session, "turn_complete", turn_id, status=status, last_agent_message=answer.text())
    yield ExitedReviewMode(rendered, msgspec.to_builtins(output) if output is not None else None)
    yield ItemCompleted(answer)
    if isinstance(final, TurnCompleted):
        yield msgspec.structs.replace(final, last_agent_message=answer.text())
    elif final is not None:
        yield final
