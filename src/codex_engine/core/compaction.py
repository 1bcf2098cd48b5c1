"""The pure parts of history compaction: when to compact, what to ask, what replaces history.

No I/O: the session samples the model and installs the history these functions build.
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_engine.config.catalog import ModelInfo
from codex_engine.protocol.items import ContentPart, Message, ResponseItem, assistant_text

__all__ = [
    "COMPACTION_INSTRUCTIONS",
    "CONTEXT_MESSAGE_PREFIXES",
    "DEFAULT_USER_MESSAGE_BUDGET_CHARS",
    "SUMMARY_CLOSE_TAG",
    "SUMMARY_OPEN_TAG",
    "build_compaction_prompt",
    "collect_user_messages",
    "compacted_history",
    "is_summary_message",
    "is_user_turn_message",
    "should_auto_compact",
    "summary_from_response",
    "summary_message",
]

#: How much recent user text survives a compaction verbatim, in characters.
DEFAULT_USER_MESSAGE_BUDGET_CHARS = 20_000

SUMMARY_OPEN_TAG = "<conversation_summary>"
SUMMARY_CLOSE_TAG = "</conversation_summary>"

#: User-role messages that codex-engine injects as context; they are not turns the user typed.
CONTEXT_MESSAGE_PREFIXES: tuple[str, ...] = (
    "<environment_context>",
    "<git_context>",
    "<user_instructions>",
    "# AGENTS.md instructions for ",
    # A skill's instructions, injected after the message that names the skill.
    "<skill>",
    SUMMARY_OPEN_TAG,
    # A goal-continuation turn's opening (core/goal_continuation.py).
    "<codex_internal_context",
    # A command the user ran in the thread (app-server ``thread/shellCommand``).
    "<user_shell_command>",
)

COMPACTION_INSTRUCTIONS = """\
Pause the task. The conversation above is about to be replaced by a summary you write now, \
because it no longer fits the context window. Another assistant (or you, with no memory of \
this conversation) will continue the work from that summary alone, together with the user's \
recent messages.

Write a handoff summary that lets the work continue without asking the user anything again:
- The goal: what the user asked for, including constraints and preferences they stated.
- What has been done: files created or changed (with paths), commands run and their outcomes, \
decisions taken and why.
- Current state: what works, what fails (exact error messages where they matter), open questions.
- Next steps: a short, concrete list in the order you would do them.

Be specific and concise. Name files, functions and commands exactly. Do not call any tools; \
answer with the summary text only."""


def should_auto_compact(total_tokens: int, model_info: ModelInfo) -> bool:
    """Whether the conversation has reached the model's auto-compaction limit."""
    limit = model_info.effective_auto_compact_limit()
    return limit is not None and total_tokens >= limit


def _message_text(item: ResponseItem) -> str | None:
    if isinstance(item, Message) and item.role == "user":
        return item.text()
    return None


def is_summary_message(item: ResponseItem) -> bool:
    """Whether ``item`` is a summary installed by an earlier compaction."""
    text = _message_text(item)
    return text is not None and text.lstrip().startswith(SUMMARY_OPEN_TAG)


def is_user_turn_message(item: ResponseItem) -> bool:
    """Whether ``item`` is a message the user wrote (not injected context, not a summary)."""
    text = _message_text(item)
    if text is None:
        return False
    head = text.lstrip()
    return not head.startswith(CONTEXT_MESSAGE_PREFIXES)


def collect_user_messages(history: Sequence[ResponseItem]) -> list[str]:
    """The texts of the user's own messages, oldest first."""
    return [
        item.text() for item in history if isinstance(item, Message) and is_user_turn_message(item)
    ]


def build_compaction_prompt(history: Sequence[ResponseItem]) -> list[ResponseItem]:
    """The input of the summarization request: the whole history plus our instruction."""
    instruction = Message(
        role="user", content=[ContentPart(type="input_text", text=COMPACTION_INSTRUCTIONS)]
    )
    return [*history, instruction]


def summary_from_response(items: Sequence[ResponseItem]) -> str:
    """The summary the model wrote: its last assistant message (empty if it wrote none)."""
    for item in reversed(items):
        text = assistant_text(item)
        if text:
            return text
    return ""


def summary_message(summary_text: str) -> Message:
    """The summary as a user message, marked so later compactions and forks recognise it."""
    text = (
        f"{SUMMARY_OPEN_TAG}\n"
        "The earlier part of this conversation was compacted. A summary of it follows; "
        "continue the work from here.\n\n"
        f"{summary_text.strip()}\n"
        f"{SUMMARY_CLOSE_TAG}"
    )
    return Message(role="user", content=[ContentPart(type="input_text", text=text)])


def _shorten(text: str, limit: int) -> str:
    # Keep both ends: a request's ask is usually at the start and its details at the end.
    if len(text) <= limit:
        return text
    marker = f"\n[... {len(text) - limit} characters omitted ...]\n"
    keep = max(limit - len(marker), 0)
    head = keep // 2
    return text[:head] + marker + text[len(text) - (keep - head) :]


def _recent_within_budget(user_messages: Sequence[str], budget: int) -> list[str]:
    kept: list[str] = []
    remaining = budget
    for text in reversed(user_messages):
        if remaining <= 0:
            break
        if len(text) <= remaining:
            kept.append(text)
            remaining -= len(text)
        else:
            kept.append(_shorten(text, remaining))
            break
    kept.reverse()
    return kept


def compacted_history(
    initial_prefix_items: Sequence[ResponseItem],
    user_messages: Sequence[str],
    summary_text: str,
    *,
    max_user_chars: int = DEFAULT_USER_MESSAGE_BUDGET_CHARS,
) -> list[ResponseItem]:
    """The history that replaces everything: the session prefix, the most recent user messages
    (at most ``max_user_chars`` characters, newest kept first, oldest first in the result) and
    the summary message last."""
    recent = _recent_within_budget(user_messages, max_user_chars)
    items: list[ResponseItem] = list(initial_prefix_items)
    items.extend(
        Message(role="user", content=[ContentPart(type="input_text", text=text)]) for text in recent
    )
    items.append(summary_message(summary_text))
    return items


def without_last_user_turns(history: Sequence[ResponseItem], turns: int) -> list[ResponseItem]:
    """``history`` before the last ``turns`` user turns (a revert); ``ValueError`` when it holds
    fewer user turns than that (earlier ones were compacted away)."""
    starts = [index for index, item in enumerate(history) if is_user_turn_message(item)]
    if turns <= 0:
        return list(history)
    if len(starts) < turns:
        raise ValueError(
            f"cannot drop {turns} turns: the history holds {len(starts)} (older turns were "
            "compacted)"
        )
    return list(history[: starts[-turns]])
