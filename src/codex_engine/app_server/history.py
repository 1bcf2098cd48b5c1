"""Recorded threads as the app-server shows them: the index's entries and the reader's records
projected into wire ``Thread`` values and their turns, and one ``thread/list`` page.

Blocking file work (through :mod:`codex_engine.core.rollout`); the server calls it through
``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from codex_engine.app_server.pagination import Page, keyset_page
from codex_engine.app_server.projector import REVIEW_WITHOUT_RESULT, command_actions, command_text
from codex_engine.auth.tokens import parse_timestamp
from codex_engine.core.compaction import is_user_turn_message
from codex_engine.core.rollout import (
    ROLLBACK_EVENT,
    IndexEntry,
    RolloutIndex,
    SessionMeta,
    ThreadSummary,
    read_rollout,
)
from codex_engine.core.rollout.index import summarize
from codex_engine.core.rollout.reader import Record
from codex_engine.core.tools.goals import GOAL_TOOL_NAMES
from codex_engine.core.tools.request_user_input import REQUEST_USER_INPUT
from codex_engine.protocol.app_server import (
    AgentMessageItem,
    CommandExecutionItem,
    ContextCompactionItem,
    ReasoningItem,
    Thread,
    ThreadItem,
    ThreadListParams,
    Turn,
    TurnStatus,
    UserMessageItem,
    WebSearchItem,
)
from codex_engine.protocol.app_server.items import EnteredReviewModeItem, ExitedReviewModeItem
from codex_engine.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    Message,
    Reasoning,
    WebSearchCall,
    parse_item,
)

__all__ = [
    "INTERACTIVE_SOURCES",
    "USER_SHELL_COMMAND_EVENT",
    "StoredThread",
    "git_info_wire",
    "list_page",
    "read_stored_thread",
    "source_kind",
    "to_wire",
]

#: ``thread/list`` without ``sourceKinds`` shows threads people started interactively.
#: The ``event_msg`` a user's shell command (``thread/shellCommand``) records: its item.
USER_SHELL_COMMAND_EVENT = "user_shell_command"
INTERACTIVE_SOURCES = frozenset({"cli", "vscode", "appServer"})
DEFAULT_LIST_LIMIT = 25

_TURN_STATUSES: dict[str, TurnStatus] = {
    "completed": "completed",
    "failed": "failed",
    "interrupted": "interrupted",
}


def source_kind(source: str | Mapping[str, Any]) -> str:
    """The wire ``SessionSource`` string for a recorded ``source``."""
    if isinstance(source, str):
        if source in ("cli", "vscode", "exec", "appServer"):
            return source
        if source in ("app_server", "app-server"):
            return "appServer"
    return "unknown"


def git_info_wire(git: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``Thread.gitInfo`` from a session_meta ``git`` object."""
    if not git:
        return None
    return {
        "sha": git.get("commit_hash"),
        "branch": git.get("branch"),
        "originUrl": git.get("repository_url"),
    }


class StoredThread(msgspec.Struct):
    """A thread read back from its rollout file."""

    path: Path
    meta: SessionMeta
    archived: bool
    preview: str = ""
    name: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    updated_at: int = 0
    turns: list[Turn] = msgspec.field(default_factory=list)

    @classmethod
    def of(
        cls, path: Path, summary: ThreadSummary, *, archived: bool, updated_at: int
    ) -> StoredThread:
        return cls(
            path=path,
            meta=summary.meta,
            archived=archived,
            preview=summary.preview,
            name=summary.name,
            model=summary.model,
            reasoning_effort=summary.reasoning_effort,
            updated_at=updated_at,
        )

    @property
    def created_at(self) -> int:
        parsed = parse_timestamp(self.meta.timestamp)
        return int(parsed.timestamp()) if parsed is not None else self.updated_at


def to_wire(stored: StoredThread, *, include_turns: bool) -> Thread:
    """A recorded thread that is not loaded, as ``Thread``."""
    meta = stored.meta
    return Thread(
        id=meta.id,
        session_id=meta.id,
        preview=stored.preview,
        ephemeral=False,
        path=str(stored.path),
        model_provider=meta.model_provider or "",
        model=stored.model,
        reasoning_effort=stored.reasoning_effort,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        status={"type": "notLoaded"},
        cwd=meta.cwd,
        cli_version=meta.cli_version,
        source=source_kind(meta.source),
        originator=meta.originator or None,
        forked_from_id=meta.forked_from_id,
        git_info=git_info_wire(meta.git),
        name=stored.name,
        turns=stored.turns if include_turns else [],
        recency_at=stored.updated_at,
    )


class _TurnBuilder:
    """Rebuilds the wire turns from a rollout's lines, in order."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.turns: list[Turn] = []
        self._pending_turn_id: str | None = None
        self._commands: dict[str, CommandExecutionItem] = {}
        #: The review turn in progress: user messages until its end are not new turns.
        self._reviewing: str | None = None
        #: The content of the next user message as the user gave it (its user_message event).
        self._pending_content: list[dict[str, Any]] | None = None
        #: Whether the last turn is still open (no turn_complete yet): a user message without
        #: a turn_context of its own was steered into it.
        self._open = False

    def _current(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def _item_id(self, turn: Turn) -> str:
        return f"{turn.id}-item-{len(turn.items)}"

    def turn_context(self, payload: Mapping[str, Any]) -> None:
        turn_id = payload.get("turn_id")
        self._pending_turn_id = turn_id if isinstance(turn_id, str) else None

    def review(self, payload: Mapping[str, Any]) -> None:
        """A review turn (see core/review_turn.py): entered, then exited with its result; the
        thread's note of the result that follows is not a user's turn."""
        turn_id = str(payload.get("turn_id") or f"{self.thread_id}-turn-{len(self.turns) + 1}")
        review = payload.get("review")
        if payload.get("type") == "entered_review_mode":
            turn = Turn(id=turn_id, root_turn_id=turn_id, status="completed", items=[])
            hint = review if isinstance(review, str) else ""
            turn.items.append(EnteredReviewModeItem(id=self._item_id(turn), review=hint))
            self.turns.append(turn)
            self._reviewing = turn_id
            return
        current = self._current()
        if current is not None and current.id == turn_id:
            text = review if isinstance(review, str) else REVIEW_WITHOUT_RESULT
            current.items.append(ExitedReviewModeItem(id=self._item_id(current), review=text))

    def user_content(self, payload: Mapping[str, Any]) -> None:
        content = payload.get("content")
        if isinstance(content, list):
            self._pending_content = [part for part in content if isinstance(part, dict)]

    def user_turn(self, text: str) -> None:
        if self._reviewing is not None:
            return  # the review's result, noted for the model
        content = self._pending_content or [{"type": "text", "text": text, "text_elements": []}]
        self._pending_content = None
        current = self._current()
        if self._pending_turn_id is None and self._open and current is not None:
            current.items.append(UserMessageItem(id=self._item_id(current), content=content))
            return
        turn_id = self._pending_turn_id or f"{self.thread_id}-turn-{len(self.turns) + 1}"
        self._pending_turn_id = None
        turn = Turn(id=turn_id, root_turn_id=turn_id, status="completed", items=[])
        turn.items.append(UserMessageItem(id=self._item_id(turn), content=content))
        self.turns.append(turn)
        self._open = True

    def _open_pending(self) -> None:
        """A turn that opened with no user message (a goal continuation, a user's shell
        command): its first item starts it."""
        if self._pending_turn_id is not None:
            turn_id, self._pending_turn_id = self._pending_turn_id, None
            self.turns.append(Turn(id=turn_id, root_turn_id=turn_id, status="completed", items=[]))
            self._open = True

    def shell_command(self, payload: Mapping[str, Any]) -> None:
        """A user's shell command (``thread/shellCommand``): its commandExecution item."""
        self._open_pending()
        turn = self._current()
        item = payload.get("item")
        if turn is None or not isinstance(item, Mapping):
            return
        with contextlib.suppress(ValueError):
            turn.items.append(msgspec.convert(dict(item), CommandExecutionItem))

    def item(self, payload: Mapping[str, Any]) -> None:
        self._open_pending()
        turn = self._current()
        if turn is None:
            return
        try:
            item = parse_item(dict(payload))
        except (ValueError, TypeError):
            return
        shown: ThreadItem | None = None
        if isinstance(item, Message) and item.role == "assistant":
            shown = AgentMessageItem(id=item.id or self._item_id(turn), text=item.text())
        elif isinstance(item, Reasoning):
            shown = ReasoningItem(
                id=item.id or self._item_id(turn),
                summary=[str(part.get("text", "")) for part in item.summary],
                content=[str(part.get("text", "")) for part in item.content or []],
            )
        elif isinstance(item, FunctionCall) and item.name in _NOT_SHOWN:
            pass  # shown by no item while the turn runs either
        elif isinstance(item, FunctionCall):
            command = _command_of(item.arguments)
            pending = CommandExecutionItem(
                id=item.call_id,
                command=command_text(command) if command else item.name,
                cwd="",
                status="inProgress",
                command_actions=command_actions(command) if command else [],
            )
            self._commands[item.call_id] = pending
            turn.items.append(pending)
        elif isinstance(item, FunctionCallOutput):
            pending_call = self._commands.pop(item.call_id, None)
            if pending_call is not None:
                output = item.output if isinstance(item.output, str) else json.dumps(item.output)
                declined = output.startswith("command not run:")
                index = turn.items.index(pending_call)
                turn.items[index] = msgspec.structs.replace(
                    pending_call,
                    status="declined" if declined else "completed",
                    aggregated_output=None if declined else output,
                )
        elif isinstance(item, WebSearchCall):
            action = item.action or {}
            query = action.get("query")
            shown = WebSearchItem(
                id=item.id or self._item_id(turn), query=query if isinstance(query, str) else ""
            )
        if shown is not None:
            turn.items.append(shown)

    def compacted(self) -> None:
        turn = self._current()
        if turn is not None:
            turn.items.append(ContextCompactionItem(id=self._item_id(turn)))

    def turn_complete(self, payload: Mapping[str, Any]) -> None:
        status = _TURN_STATUSES.get(str(payload.get("status")), "completed")
        turn_id = payload.get("turn_id")
        if turn_id == self._reviewing:
            self._reviewing = None
        self._open = False
        for turn in reversed(self.turns):
            if turn.id == turn_id:
                turn.status = status
                return


def _command_of(arguments: str) -> list[str]:
    try:
        data = json.loads(arguments)
    except ValueError:
        return []
    command = data.get("command") if isinstance(data, dict) else None
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        return list(command)
    return []


#: Tools whose calls no thread item shows (their effects have notifications of their own).
_NOT_SHOWN = frozenset({*GOAL_TOOL_NAMES, REQUEST_USER_INPUT})
_REVIEW_EVENTS = frozenset({"entered_review_mode", "exited_review_mode"})


def _turns(thread_id: str, records: list[Record]) -> list[Turn]:
    builder = _TurnBuilder(thread_id)
    for record in records:
        kind, payload = record.kind, record.payload
        if kind == "turn_context":
            builder.turn_context(payload)
        elif kind == "response_item":
            if payload.get("type") == "message" and payload.get("role") == "user":
                try:
                    message = parse_item(dict(payload))
                except (ValueError, TypeError):
                    continue
                if isinstance(message, Message) and is_user_turn_message(message):
                    builder.user_turn(message.text())
            else:
                builder.item(payload)
        elif kind == "event_msg" and payload.get("type") == "turn_complete":
            builder.turn_complete(payload)
        elif kind == "event_msg" and payload.get("type") in _REVIEW_EVENTS:
            builder.review(payload)
        elif kind == "event_msg" and payload.get("type") == ROLLBACK_EVENT:
            dropped = payload.get("num_turns")
            if isinstance(dropped, int) and dropped > 0:
                del builder.turns[-dropped:]
        elif kind == "event_msg" and payload.get("type") == "user_message":
            builder.user_content(payload)
        elif kind == "event_msg" and payload.get("type") == USER_SHELL_COMMAND_EVENT:
            builder.shell_command(payload)
        elif kind == "compacted":
            builder.compacted()
    return builder.turns


def read_stored_thread(path: Path, *, archived: bool, with_turns: bool) -> StoredThread:
    """The thread recorded in ``path``, its turns rebuilt if asked; raises ``RolloutError`` when
    the reader refuses the file (see :mod:`codex_engine.core.rollout.reader`)."""
    rollout = read_rollout(path)
    try:
        updated_at = int(path.stat().st_mtime)
    except OSError:
        updated_at = 0
    thread = StoredThread.of(path, summarize(rollout), archived=archived, updated_at=updated_at)
    if with_turns:
        thread.turns = _turns(rollout.meta.id, rollout.records)
    return thread


def list_page(
    index: RolloutIndex,
    p: ThreadListParams,
    *,
    by_update: bool,
) -> Page[StoredThread]:
    """One ``thread/list`` page of recorded threads from ``index``; files it has read before and
    that have not changed are not read again. Raises ``CursorError`` for a cursor this order did
    not give."""
    archived = bool(p.archived)
    cwds = {p.cwd} if isinstance(p.cwd, str) else set(p.cwd or ())
    providers = set(p.model_providers or ())
    kinds = set(p.source_kinds or ()) or INTERACTIVE_SOURCES
    excluded = set(p.excluded_thread_ids or ())
    search = (p.search_term or "").lower()

    def accept(entry: IndexEntry) -> StoredThread | None:
        if entry.thread_id in excluded:
            return None
        summary = index.summary(entry)
        if summary is None:
            return None
        meta = summary.meta
        if cwds and meta.cwd not in cwds:
            return None
        if providers and (meta.model_provider or "") not in providers:
            return None
        if source_kind(meta.source) not in kinds:
            return None
        if search and search not in f"{summary.name or ''}\n{summary.preview}".lower():
            return None
        return StoredThread.of(entry.path, summary, archived=archived, updated_at=entry.updated_at)

    return keyset_page(
        index.entries(archived=archived),
        key=IndexEntry.updated_key if by_update else IndexEntry.created_key,
        cursor=p.cursor,
        cursor_prefix="u:" if by_update else "c:",
        descending=p.sort_direction != "asc",
        limit=p.limit or DEFAULT_LIST_LIMIT,
        accept=accept,
    )
