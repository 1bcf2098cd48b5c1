"""Reading a rollout back, under the one rule every reader follows (resume, fork, ``thread/read``,
``thread/list``, ``exec resume --last``):

- blank lines are ignored;
- a line that is not a record (:func:`~.records.decode_line`: not UTF-8 JSON, not an object, no
  string ``type`` or object ``payload``) is *torn* when it is the last non-blank line (a writer
  died mid-write): it is dropped with a warning naming the file and line. Anywhere else it is a
  :class:`RolloutError` naming the file and line, and the file is not read;
- the first record must be a ``session_meta`` with an ``id``, else :class:`RolloutError` (an
  empty file, or one holding only a torn line, records no session);
- records of a type this version does not know are kept; each consumer ignores them
  (:func:`load_rollout` with a warning, listing silently).

The writer applies the same rule when it resumes a file: a torn last line is cut off first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from codex_engine.core.compaction import (
    collect_user_messages,
    compacted_history,
    is_user_turn_message,
    without_last_user_turns,
)
from codex_engine.core.rollout.records import (
    ROLLBACK_EVENT,
    RolloutError,
    SessionMeta,
    decode_line,
    decode_meta_line,
)
from codex_engine.protocol.items import ItemError, ResponseItem, parse_item

__all__ = [
    "Record",
    "Rollout",
    "RolloutContents",
    "first_user_turns",
    "load_rollout",
    "parse_rollout",
    "read_meta",
    "read_rollout",
]

# Start-of-turn lines that belong to the turn a fork cuts away, though they precede its message.
_TURN_START_EVENTS = frozenset({"user_message", "task_started", "turn_started"})


def _open(path: Path) -> BinaryIO:
    """Every rollout read goes through here (tests count calls to prove the index reads none)."""
    return open(path, "rb")


class Record(msgspec.Struct, frozen=True):
    """One line that is a record: where it is, its ``type`` and ``payload``, and its bytes."""

    number: int
    kind: str
    payload: dict[str, Any]
    raw: bytes


class Rollout(msgspec.Struct, frozen=True):
    """A file read under the rule: its meta, the records after it, what was dropped."""

    path: Path
    meta: SessionMeta
    #: Every record after the first line, unknown types included, in file order.
    records: list[Record]
    warnings: list[str] = msgspec.field(default_factory=list)


def parse_rollout(path: Path, data: bytes) -> Rollout:
    """Apply the rule to a file's bytes (``path`` only names it in messages)."""
    chunks = data.split(b"\n")
    last = len(chunks) - 1
    while last >= 0 and not chunks[last].strip():
        last -= 1
    records: list[Record] = []
    warnings: list[str] = []
    for index in range(last + 1):
        chunk = chunks[index]
        if not chunk.strip():
            continue
        try:
            kind, payload = decode_line(chunk)
        except ValueError as exc:
            if index == last:
                # The process died mid-write: the last line is torn; everything before it holds.
                warnings.append(f"{path}:{index + 1}: skipped an incomplete last line ({exc})")
                break
            raise RolloutError(
                f"{path}:{index + 1}: line is not a valid rollout record ({exc})"
            ) from None
        records.append(Record(index + 1, kind, payload, chunk))
    if not records or records[0].kind != "session_meta":
        raise RolloutError(f"{path}: the first line is not a session_meta line")
    try:
        meta = SessionMeta.from_payload(records[0].payload)
    except ValueError as exc:
        raise RolloutError(f"{path}:{records[0].number}: {exc}") from None
    return Rollout(path, meta, records[1:], warnings)


def read_rollout(path: Path) -> Rollout:
    """Read ``path`` under the rule; raises :class:`RolloutError`. Blocking."""
    try:
        with _open(path) as reader:
            data = reader.read()
    except OSError as exc:
        raise RolloutError(f"cannot read rollout file {path}: {exc}") from None
    return parse_rollout(path, data)


def read_meta(path: Path) -> SessionMeta | None:
    """The session_meta of ``path`` from its first line alone, or None when that line is not
    one (or the file cannot be read). Blocking, but reads one line."""
    try:
        with _open(path) as reader:
            first = reader.readline()
        return decode_meta_line(first)
    except (OSError, ValueError):
        return None


class RolloutContents(msgspec.Struct):
    """A rollout read back: its meta, the rebuilt history, and what was odd about it."""

    path: Path
    meta: SessionMeta
    #: The conversation to continue from; a ``compacted`` line resets it to its replacement.
    items: list[ResponseItem] = msgspec.field(default_factory=list)
    turn_contexts: list[dict[str, Any]] = msgspec.field(default_factory=list)
    events: list[dict[str, Any]] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)

    @property
    def latest_turn_context(self) -> dict[str, Any] | None:
        return self.turn_contexts[-1] if self.turn_contexts else None


def _parse(path: Path, record: Record, data: Any) -> ResponseItem:
    try:
        return parse_item(data)
    except ItemError as exc:
        raise RolloutError(f"{path}:{record.number}: invalid response item ({exc})") from None


def load_rollout(path: Path, *, cut_after_user_turns: int | None = None) -> RolloutContents:
    """Read a rollout and rebuild the history a resumed session continues from (up to user
    turn ``cut_after_user_turns``, as a fork through it copies, when given).

    Lines follow the module's rule; beyond it, a ``response_item`` that is not a valid item
    raises :class:`RolloutError` naming file and line. Blocking: call via ``asyncio.to_thread``.
    """
    rollout = read_rollout(path)
    warnings = list(rollout.warnings)
    contents = RolloutContents(path=path, meta=rollout.meta, warnings=warnings)
    records = rollout.records
    if cut_after_user_turns is not None:
        records = first_user_turns(records, cut_after_user_turns)
    for record in records:
        if record.kind == "response_item":
            contents.items.append(_parse(path, record, record.payload))
        elif record.kind == "compacted":
            replacement = record.payload.get("replacement_history")
            if isinstance(replacement, list):
                contents.items = [_parse(path, record, entry) for entry in replacement]
            else:
                # Older files: only the summary was stored; rebuild around the user's messages.
                message = record.payload.get("message")
                contents.items = compacted_history(
                    [],
                    collect_user_messages(contents.items),
                    message if isinstance(message, str) else "",
                )
        elif record.kind == "turn_context":
            contents.turn_contexts.append(record.payload)
        elif record.kind == "event_msg":
            contents.events.append(record.payload)
            dropped = record.payload.get("num_turns")
            if record.payload.get("type") == ROLLBACK_EVENT and isinstance(dropped, int):
                try:
                    contents.items = without_last_user_turns(contents.items, dropped)
                except ValueError as exc:
                    warnings.append(f"{path}:{record.number}: ignored a revert ({exc})")
        elif record.kind == "session_meta":
            warnings.append(f"{path}:{record.number}: ignored a second session_meta line")
        else:
            warnings.append(
                f"{path}:{record.number}: ignored a line of unknown type {record.kind!r}"
            )
    return contents


def first_user_turns(records: list[Record], keep_user_turns: int) -> list[Record]:
    """The records before user turn number ``keep_user_turns + 1`` (all if there are fewer):
    what a fork through ``keep_user_turns`` turns copies. The dropped turn's own start lines
    (its turn_context, its user_message event) go with it."""
    seen = 0
    for index, record in enumerate(records):
        if record.kind != "response_item":
            continue
        try:
            item = parse_item(record.payload)
        except ItemError:
            continue
        if not is_user_turn_message(item):
            continue
        if seen == keep_user_turns:
            cut = index
            while cut > 0 and _starts_turn(records[cut - 1]):
                cut -= 1
            return records[:cut]
        seen += 1
    return records


def _starts_turn(record: Record) -> bool:
    if record.kind == "turn_context":
        return True
    return record.kind == "event_msg" and record.payload.get("type") in _TURN_START_EVENTS
