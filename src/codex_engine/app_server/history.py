"""Recorded threads as the app-server reports them: listing, turns rebuilt, names, archiving.

Blocking file work over ``CODEX_HOME/sessions`` and ``CODEX_HOME/archived_sessions``; the server
calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codex_engine.app_server.projector import command_actions, command_text
from codex_engine.auth.tokens import parse_timestamp
from codex_engine.core.compaction import is_user_turn_message
from codex_engine.core.rollout import SessionMeta, rfc3339_now
from codex_engine.protocol.app_server import (
    AgentMessageItem,
    CommandExecutionItem,
    ContextCompactionItem,
    ReasoningItem,
    ThreadItem,
    Turn,
    TurnStatus,
    UserMessageItem,
    WebSearchItem,
)
from codex_engine.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    Message,
    Reasoning,
    WebSearchCall,
    parse_item,
)

__all__ = [
    "ARCHIVED_DIR",
    "NAME_EVENT",
    "SESSIONS_DIR",
    "StoredThread",
    "append_name",
    "archive_file",
    "find_thread_file",
    "git_info_wire",
    "list_thread_files",
    "read_stored_thread",
    "source_kind",
    "unarchive_file",
]

SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"
#: The ``event_msg`` line that records a thread's name (written by ``thread/name/set``).
NAME_EVENT = "thread_name_updated"

_FILE_NAME = re.compile(
    r"^rollout-(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})T\d{2}-\d{2}-\d{2}-(?P<id>.+)\.jsonl$"
)
_TURN_STATUSES: dict[str, TurnStatus] = {
    "completed": "completed",
    "failed": "failed",
    "interrupted": "interrupted",
}


def thread_id_of(path: Path) -> str | None:
    match = _FILE_NAME.match(path.name)
    return match.group("id") if match else None


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


def list_thread_files(codex_home: Path, *, archived: bool) -> list[Path]:
    """Every rollout file, newest first (names start with the start time; ids are time-ordered)."""
    if archived:
        root = codex_home / ARCHIVED_DIR
        candidates: Iterable[Path] = root.glob("rollout-*.jsonl") if root.is_dir() else ()
    else:
        root = codex_home / SESSIONS_DIR
        candidates = root.glob("*/*/*/rollout-*.jsonl") if root.is_dir() else ()
    files = [p for p in candidates if _FILE_NAME.match(p.name)]
    return sorted(files, key=lambda p: p.name, reverse=True)


def find_thread_file(codex_home: Path, thread_id: str) -> tuple[Path, bool] | None:
    """``(path, archived)`` of a thread's rollout, looking in sessions first."""
    for archived in (False, True):
        for path in list_thread_files(codex_home, archived=archived):
            if thread_id_of(path) == thread_id:
                return path, archived
    return None


@dataclass
class StoredThread:
    """A thread read back from its rollout file."""

    path: Path
    meta: SessionMeta
    archived: bool
    preview: str = ""
    name: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    updated_at: int = 0
    turns: list[Turn] = field(default_factory=list)

    @property
    def created_at(self) -> int:
        parsed = parse_timestamp(self.meta.timestamp)
        return int(parsed.timestamp()) if parsed is not None else self.updated_at


class _TurnBuilder:
    """Rebuilds the wire turns from a rollout's lines, in order."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.turns: list[Turn] = []
        self._pending_turn_id: str | None = None
        self._commands: dict[str, CommandExecutionItem] = {}

    def _current(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def _item_id(self, turn: Turn) -> str:
        return f"{turn.id}-item-{len(turn.items)}"

    def turn_context(self, payload: Mapping[str, Any]) -> None:
        turn_id = payload.get("turn_id")
        self._pending_turn_id = turn_id if isinstance(turn_id, str) else None

    def user_turn(self, text: str) -> None:
        turn_id = self._pending_turn_id or f"{self.thread_id}-turn-{len(self.turns) + 1}"
        self._pending_turn_id = None
        turn = Turn(id=turn_id, status="completed", items=[])
        turn.items.append(
            UserMessageItem(
                id=self._item_id(turn),
                content=[{"type": "text", "text": text, "text_elements": []}],
            )
        )
        self.turns.append(turn)

    def item(self, payload: Mapping[str, Any]) -> None:
        turn = self._current()
        if turn is None:
            return
        try:
            item = parse_item(dict(payload))
        except (ValidationError, ValueError, TypeError):
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
                turn.items[index] = pending_call.model_copy(
                    update={
                        "status": "declined" if declined else "completed",
                        "aggregated_output": None if declined else output,
                    }
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


def _records(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    with open(path, "rb") as reader:
        for raw in reader:
            try:
                record = json.loads(raw)
            except ValueError:
                # A torn last line (the writer died mid-write) is simply not shown.
                continue
            if not isinstance(record, dict):
                continue
            kind, payload = record.get("type"), record.get("payload")
            if isinstance(kind, str) and isinstance(payload, dict):
                yield kind, payload


def read_stored_thread(path: Path, *, archived: bool, with_turns: bool) -> StoredThread | None:
    """The thread recorded in ``path``, or None when its first line is not a session_meta."""
    try:
        records = iter(_records(path))
        first = next(records, None)
        if first is None or first[0] != "session_meta":
            return None
        meta = SessionMeta.from_payload(first[1])
        thread = StoredThread(path=path, meta=meta, archived=archived)
        builder = _TurnBuilder(meta.id)
        for kind, payload in records:
            if kind == "turn_context":
                model, effort = payload.get("model"), payload.get("effort")
                thread.model = model if isinstance(model, str) else thread.model
                thread.reasoning_effort = effort if isinstance(effort, str) else None
                builder.turn_context(payload)
            elif kind == "response_item":
                if payload.get("type") == "message" and payload.get("role") == "user":
                    try:
                        message = parse_item(dict(payload))
                    except (ValidationError, ValueError, TypeError):
                        continue
                    if isinstance(message, Message) and is_user_turn_message(message):
                        if not thread.preview:
                            thread.preview = message.text()
                        builder.user_turn(message.text())
                elif with_turns:
                    builder.item(payload)
            elif kind == "event_msg":
                event = payload.get("type")
                if event == NAME_EVENT:
                    name = payload.get("thread_name")
                    thread.name = name if isinstance(name, str) and name else None
                elif event == "turn_complete":
                    builder.turn_complete(payload)
            elif kind == "compacted" and with_turns:
                builder.compacted()
        thread.updated_at = int(path.stat().st_mtime)
    except (OSError, ValueError):
        return None
    if with_turns:
        thread.turns = builder.turns
    else:
        thread.turns = []
    return thread


def append_name(path: Path, name: str | None) -> None:
    """Record a thread's name as an ``event_msg`` line at the end of its rollout."""
    record = {
        "timestamp": rfc3339_now(),
        "type": "event_msg",
        "payload": {"type": NAME_EVENT, "thread_name": name},
    }
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    # One O_APPEND write, so a line never interleaves with another writer's.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def archive_file(codex_home: Path, path: Path) -> Path:
    target_dir = codex_home / ARCHIVED_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    path.rename(target)
    return target


def unarchive_file(codex_home: Path, path: Path) -> Path:
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise ValueError(f"{path.name} is not a rollout file name")
    target_dir = codex_home / SESSIONS_DIR / match.group("y") / match.group("m") / match.group("d")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    path.rename(target)
    return target
