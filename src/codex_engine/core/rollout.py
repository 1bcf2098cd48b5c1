"""Rollout files: a session recorded as JSON lines, appended while turns run, read back to resume.

Layout: ``CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread_id>.jsonl``. The
writer holds an exclusive ``flock`` on its file for as long as it is open; readers take none.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ValidationError

from codex_engine import _filelock
from codex_engine.core.compaction import (
    collect_user_messages,
    compacted_history,
    is_user_turn_message,
)
from codex_engine.errors import RolloutError, SessionLockedError  # RolloutError: importable here
from codex_engine.protocol.items import ResponseItem, item_to_json, parse_item

__all__ = [
    "RolloutContents",
    "RolloutError",
    "RolloutKind",
    "RolloutRecorder",
    "SessionMeta",
    "find_rollout",
    "fork_rollout",
    "latest_rollout",
    "load_rollout",
    "rfc3339_now",
    "rollout_path",
]

RolloutKind = Literal["session_meta", "turn_context", "response_item", "event_msg", "compacted"]
_KINDS: frozenset[str] = frozenset(get_args(RolloutKind))
_THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_FILE_NAME = re.compile(r"^rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(?P<id>.+)\.jsonl$")
# Start-of-turn lines that belong to the turn a fork cuts away, though they precede its message.
_TURN_START_EVENTS = frozenset({"user_message", "task_started", "turn_started"})


def rfc3339_now() -> str:
    """Now in UTC as RFC 3339 with milliseconds and a ``Z`` suffix."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """The ``session_meta`` payload: written once, first, when a thread's file is created."""

    id: str
    cwd: str
    originator: str
    cli_version: str
    #: ``"cli"``, ``"exec"``, ... or an object such as ``{"subagent": ...}``.
    source: str | Mapping[str, Any] = "exec"
    model_provider: str | None = None
    #: The full system prompt, kept so a resumed or forked thread sends the same one.
    base_instructions: str | None = None
    #: ``GitInfo.to_session_meta()``; remote urls there are already free of credentials.
    git: Mapping[str, str] | None = None
    forked_from_id: str | None = None
    timestamp: str = field(default_factory=rfc3339_now)
    #: Fields this version does not know, kept so a fork copies them unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = dict(self.extra)
        payload.update(id=self.id, timestamp=self.timestamp, cwd=self.cwd)
        if self.forked_from_id is not None:
            payload["forked_from_id"] = self.forked_from_id
        source = self.source if isinstance(self.source, str) else dict(self.source)
        payload.update(originator=self.originator, cli_version=self.cli_version, source=source)
        if self.model_provider is not None:
            payload["model_provider"] = self.model_provider
        if self.base_instructions is not None:
            payload["base_instructions"] = {"text": self.base_instructions}
        if self.git:
            payload["git"] = dict(self.git)
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SessionMeta:
        """Tolerant of older files (``instructions`` as a plain string) and unknown fields."""
        data = dict(payload)
        thread_id = data.pop("id", None)
        if not isinstance(thread_id, str) or not thread_id:
            raise ValueError("session_meta has no `id`")
        instructions = data.pop("base_instructions", None)
        legacy = data.pop("instructions", None)
        text: str | None = None
        if isinstance(instructions, Mapping) and isinstance(instructions.get("text"), str):
            text = instructions["text"]
        elif isinstance(legacy, str):
            text = legacy
        git = data.pop("git", None)
        source = data.pop("source", "exec")

        def opt(key: str) -> str | None:
            value = data.pop(key, None)
            return value if isinstance(value, str) else None

        return cls(
            id=thread_id,
            cwd=opt("cwd") or "",
            originator=opt("originator") or "",
            cli_version=opt("cli_version") or "",
            source=source if isinstance(source, str | Mapping) else "exec",
            model_provider=opt("model_provider"),
            base_instructions=text,
            git={k: v for k, v in git.items() if isinstance(v, str)}
            if isinstance(git, Mapping)
            else None,
            forked_from_id=opt("forked_from_id"),
            timestamp=opt("timestamp") or rfc3339_now(),
            extra=data,
        )


@dataclass
class RolloutContents:
    """A rollout read back: its meta, the rebuilt history, and what was odd about it."""

    path: Path
    meta: SessionMeta
    #: The conversation to continue from; a ``compacted`` line resets it to its replacement.
    items: list[ResponseItem] = field(default_factory=list)
    turn_contexts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def latest_turn_context(self) -> dict[str, Any] | None:
        return self.turn_contexts[-1] if self.turn_contexts else None


def _line(kind: str, payload: Mapping[str, Any]) -> bytes:
    record = {"timestamp": rfc3339_now(), "type": kind, "payload": payload}
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _check_thread_id(thread_id: str) -> None:
    # The id becomes part of a file name; nothing path-like may get through.
    if not _THREAD_ID.match(thread_id):
        raise ValueError(f"invalid thread id {thread_id!r}")


def rollout_path(codex_home: Path, thread_id: str, when: datetime | None = None) -> Path:
    """Where a thread started at ``when`` (local time; default now) is recorded."""
    _check_thread_id(thread_id)
    local = (when or datetime.now()).astimezone()
    day = codex_home / "sessions" / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
    return day / f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{thread_id}.jsonl"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# (st_dev, st_ino) of the rollout files this process holds for writing. A second open of one
# here fails its flock just as another process's would; this tells the two cases apart.
_HELD_HERE: set[tuple[int, int]] = set()
_HELD_LOCK = threading.Lock()


def _claim(fd: int, path: Path, thread_id: str) -> None:
    """Lock ``fd`` as the one writer of its session, or raise :class:`SessionLockedError`."""
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino)
    with _HELD_LOCK:
        if key in _HELD_HERE:
            raise SessionLockedError(thread_id, here=True)
        if not _filelock.try_lock(fd):
            raise SessionLockedError(thread_id, pid=_filelock.holder_pid(path))
        _HELD_HERE.add(key)


def _release(fd: int) -> None:
    """Close a claimed ``fd``, which drops its lock."""
    with _HELD_LOCK:
        try:
            st = os.fstat(fd)
        except OSError:
            st = None
        with contextlib.suppress(OSError):
            os.close(fd)
        if st is not None:
            _HELD_HERE.discard((st.st_dev, st.st_ino))


def _create_file(path: Path, data: bytes, thread_id: str) -> int:
    """A new rollout holding ``data``, claimed for writing (see :func:`_claim`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Private to the user: a rollout holds the whole conversation, including command output.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        _claim(fd, path, thread_id)
    except BaseException:
        os.close(fd)
        raise
    try:
        _write_all(fd, data)
    except BaseException:
        _release(fd)
        raise
    return fd


def _repair_tail(fd: int) -> str | None:
    """Make the file end with a complete line: a torn last line is cut off (the reason is
    returned), a whole one that lacks its newline gets it. Otherwise the next append would glue
    onto it."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    block = 65536
    pos = size
    tail = b""
    while pos > 0:
        start = max(pos - block, 0)
        chunk = os.pread(fd, pos - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            tail = chunk[newline + 1 :] + tail
            pos = start + newline + 1
            break
        tail = chunk + tail
        pos = start
    if not tail:
        return None
    try:
        json.loads(tail)
    except ValueError as exc:
        os.ftruncate(fd, pos)
        return str(exc)
    os.lseek(fd, 0, os.SEEK_END)
    _write_all(fd, b"\n")
    return None


def _open_for_resume(path: Path) -> tuple[int, str, str | None]:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    try:
        with open(path, "rb") as reader:
            first = reader.readline()
        try:
            record = json.loads(first)
            meta = SessionMeta.from_payload(record["payload"])
            if record.get("type") != "session_meta":
                raise ValueError("first line is not session_meta")
        except (ValueError, KeyError, TypeError) as exc:
            raise RolloutError(
                f"{path}: cannot resume, the first line is not a session_meta line ({exc})"
            ) from None
        # Before anything is written, the tail repair included: another writer may be mid-line.
        _claim(fd, path, meta.id)
    except BaseException:
        os.close(fd)
        raise
    try:
        torn = _repair_tail(fd)
    except BaseException:
        _release(fd)
        raise
    return fd, meta.id, torn


class _Flush:
    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class _Close:
    pass


class RolloutRecorder:
    """Appends lines to one rollout file from a small writer task.

    :meth:`record` never blocks: it queues the line, and the writer task writes queued lines in
    order off the event loop, each whole in one write, as the turn runs. A crash therefore loses
    at most the lines still queued and leaves at most one torn last line, which readers skip.
    A write failure does not disturb the turn; :meth:`flush` and :meth:`close` report it.

    From creation (or resume, or fork) until :meth:`close` the recorder is the file's one writer:
    opening it for writing elsewhere, in this process or another, raises
    :class:`SessionLockedError` and writes nothing. The OS drops the lock if the process dies.
    """

    def __init__(self, path: Path, fd: int, thread_id: str) -> None:
        self.path = path
        self.thread_id = thread_id
        #: What opening the file found wrong and mended (a torn last line cut off on resume).
        self.warnings: list[str] = []
        self._fd: int | None = fd
        self._queue: asyncio.Queue[bytes | _Flush | _Close] = asyncio.Queue()
        self._error: OSError | None = None
        self._closing = False
        # Held by the write thread; closing takes it too, so a writer task cancelled at loop
        # shutdown never closes the fd under a write still running in its thread.
        self._fd_lock = threading.Lock()
        self._writer = asyncio.create_task(self._write_loop(), name=f"rollout-{thread_id}")

    @classmethod
    async def create(
        cls, codex_home: Path, meta: SessionMeta, *, when: datetime | None = None
    ) -> RolloutRecorder:
        """A new file for ``meta.id`` whose first line is ``session_meta``."""
        path = rollout_path(codex_home, meta.id, when)
        try:
            fd = await asyncio.to_thread(
                _create_file, path, _line("session_meta", meta.to_payload()), meta.id
            )
        except OSError as exc:
            raise RolloutError(f"cannot create rollout file {path}: {exc}") from None
        return cls(path, fd, meta.id)

    @classmethod
    async def fork(
        cls,
        source_path: Path,
        codex_home: Path,
        *,
        new_thread_id: str,
        cut_after_user_turns: int | None,
        when: datetime | None = None,
    ) -> RolloutRecorder:
        """A new thread's file that starts as a copy of ``source_path`` (see :func:`fork_rollout`),
        held for writing from the moment it exists."""
        path, fd = await asyncio.to_thread(
            _fork_file, source_path, codex_home, new_thread_id, cut_after_user_turns, when
        )
        return cls(path, fd, new_thread_id)

    @classmethod
    async def resume(cls, path: Path) -> RolloutRecorder:
        """Continue appending to an existing file (its session_meta is not written again).

        Raises :class:`SessionLockedError` if another recorder has the file open for writing.
        """
        try:
            fd, thread_id, torn = await asyncio.to_thread(_open_for_resume, path)
        except OSError as exc:
            raise RolloutError(f"cannot open rollout file {path} to resume: {exc}") from None
        recorder = cls(path, fd, thread_id)
        if torn is not None:
            recorder.warnings.append(f"{path}: cut off an incomplete last line ({torn})")
        return recorder

    def record(self, kind: RolloutKind, payload: Mapping[str, Any]) -> None:
        """Queue one line; it is written in order shortly after, without blocking the caller."""
        if kind == "session_meta" or kind not in _KINDS:
            raise ValueError(f"cannot record a {kind!r} line")
        if self._closing:
            raise RolloutError(f"rollout {self.path} is closed")
        self._queue.put_nowait(_line(kind, payload))

    def record_items(self, items: Iterable[ResponseItem]) -> None:
        """Queue a ``response_item`` line per item."""
        for item in items:
            self.record("response_item", item_to_json(item))

    async def append(self, kind: RolloutKind, payload: Mapping[str, Any]) -> None:
        """Record one line and wait until it is written."""
        self.record(kind, payload)
        await self.flush()

    async def flush(self) -> None:
        """Wait until every line recorded so far is written; raises if a write failed."""
        if not self._writer.done():
            marker = _Flush()
            self._queue.put_nowait(marker)
            await asyncio.shield(marker.future)
        self._raise_if_failed()

    async def close(self) -> None:
        """Write what is queued and close the file; raises if a write failed. Idempotent."""
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(_Close())
        # wait() rather than await: a writer cancelled at loop shutdown must not raise here.
        await asyncio.wait([self._writer])
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RolloutError(f"cannot write rollout file {self.path}: {self._error}")

    def _write(self, data: bytes) -> None:
        with self._fd_lock:
            if self._fd is None or self._error is not None:
                return
            try:
                _write_all(self._fd, data)
            except OSError as exc:
                self._error = exc

    def _close_fd(self) -> None:
        with self._fd_lock:
            if self._fd is not None:
                _release(self._fd)
                self._fd = None

    async def _write_loop(self) -> None:
        try:
            closing = False
            while not closing:
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                pending: list[bytes] = []
                waiting: list[_Flush] = []
                for entry in batch:
                    if isinstance(entry, bytes):
                        pending.append(entry)
                    elif isinstance(entry, _Flush):
                        waiting.append(entry)
                    else:
                        closing = True
                if pending:
                    await asyncio.to_thread(self._write, b"".join(pending))
                for marker in waiting:
                    if not marker.future.done():
                        marker.future.set_result(None)
        finally:
            self._close_fd()
            # Anyone still waiting for a flush is released (the loop is gone).
            while not self._queue.empty():
                entry = self._queue.get_nowait()
                if isinstance(entry, _Flush) and not entry.future.done():
                    entry.future.set_result(None)


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    kind: str
    payload: dict[str, Any]
    raw: bytes


def _read_lines(path: Path, warnings: list[str]) -> list[_Line]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RolloutError(f"cannot read rollout file {path}: {exc}") from None
    chunks = data.split(b"\n")
    numbered = [(i + 1, chunk) for i, chunk in enumerate(chunks) if chunk.strip()]
    lines: list[_Line] = []
    for index, (number, chunk) in enumerate(numbered):
        try:
            record = json.loads(chunk.decode("utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            kind, payload = record.get("type"), record.get("payload")
            if not isinstance(kind, str) or not isinstance(payload, dict):
                raise ValueError("missing `type` or `payload`")
        except ValueError as exc:
            if index == len(numbered) - 1:
                # The process died mid-write: the last line is torn; everything before it holds.
                warnings.append(f"{path}:{number}: skipped an incomplete last line ({exc})")
                break
            raise RolloutError(
                f"{path}:{number}: line is not a valid rollout record ({exc})"
            ) from None
        lines.append(_Line(number, kind, payload, chunk))
    return lines


def _meta_from(path: Path, lines: list[_Line]) -> SessionMeta:
    if not lines or lines[0].kind != "session_meta":
        raise RolloutError(f"{path}: the first line is not a session_meta line")
    try:
        return SessionMeta.from_payload(lines[0].payload)
    except ValueError as exc:
        raise RolloutError(f"{path}:{lines[0].number}: {exc}") from None


def _parse(path: Path, line: _Line, data: Any) -> ResponseItem:
    try:
        return parse_item(data)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        raise RolloutError(f"{path}:{line.number}: invalid response item ({first})") from None


def load_rollout(path: Path) -> RolloutContents:
    """Read a rollout and rebuild the history a resumed session continues from.

    A torn last line is skipped with a warning; any other broken line raises
    :class:`RolloutError` naming the file and line. Blocking: call via ``asyncio.to_thread``.
    """
    warnings: list[str] = []
    lines = _read_lines(path, warnings)
    meta = _meta_from(path, lines)
    contents = RolloutContents(path=path, meta=meta, warnings=warnings)
    for line in lines[1:]:
        if line.kind == "response_item":
            contents.items.append(_parse(path, line, line.payload))
        elif line.kind == "compacted":
            replacement = line.payload.get("replacement_history")
            if isinstance(replacement, list):
                contents.items = [_parse(path, line, entry) for entry in replacement]
            else:
                # Older files: only the summary was stored; rebuild around the user's messages.
                message = line.payload.get("message")
                contents.items = compacted_history(
                    [],
                    collect_user_messages(contents.items),
                    message if isinstance(message, str) else "",
                )
        elif line.kind == "turn_context":
            contents.turn_contexts.append(line.payload)
        elif line.kind == "event_msg":
            contents.events.append(line.payload)
        elif line.kind == "session_meta":
            warnings.append(f"{path}:{line.number}: ignored a second session_meta line")
        else:
            warnings.append(f"{path}:{line.number}: ignored a line of unknown type {line.kind!r}")
    return contents


def _rollout_files_newest_first(codex_home: Path) -> Iterator[Path]:
    sessions = codex_home / "sessions"

    def subdirs(directory: Path) -> list[Path]:
        try:
            entries = [p for p in directory.iterdir() if p.is_dir() and p.name.isdigit()]
        except OSError:
            return []
        return sorted(entries, key=lambda p: p.name, reverse=True)

    for year in subdirs(sessions):
        for month in subdirs(year):
            for day in subdirs(month):
                try:
                    names = [p for p in day.iterdir() if _FILE_NAME.match(p.name)]
                except OSError:
                    continue
                # The name starts with the local start time, and v7 thread ids sort by time too.
                yield from sorted(names, key=lambda p: p.name, reverse=True)


def find_rollout(codex_home: Path, thread_id: str) -> Path | None:
    """The rollout file of ``thread_id``, if there is one. Blocking (a directory walk)."""
    _check_thread_id(thread_id)
    for path in _rollout_files_newest_first(codex_home):
        match = _FILE_NAME.match(path.name)
        if match is not None and match.group("id") == thread_id:
            return path
    return None


def _first_meta(path: Path) -> SessionMeta | None:
    try:
        with open(path, "rb") as reader:
            record = json.loads(reader.readline())
        if record.get("type") != "session_meta":
            return None
        return SessionMeta.from_payload(record["payload"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def latest_rollout(codex_home: Path, cwd: Path | None = None) -> Path | None:
    """The most recently started rollout (for ``resume --last``), optionally only among those
    recorded in ``cwd``. Files without a readable session_meta are passed over. Blocking."""
    wanted = cwd.resolve() if cwd is not None else None
    for path in _rollout_files_newest_first(codex_home):
        meta = _first_meta(path)
        if meta is None:
            continue
        if wanted is None or Path(meta.cwd).resolve() == wanted:
            return path
    return None


def _cut_index(lines: list[_Line], keep_user_turns: int) -> int:
    """Index of the first line to drop so that ``keep_user_turns`` user turns remain."""
    seen = 0
    for index, line in enumerate(lines):
        if line.kind != "response_item":
            continue
        try:
            item = parse_item(line.payload)
        except ValidationError:
            continue
        if not is_user_turn_message(item):
            continue
        if seen == keep_user_turns:
            cut = index
            # The dropped turn's own start lines (its turn_context, user_message event) go too.
            while cut > 0 and _starts_turn(lines[cut - 1]):
                cut -= 1
            return cut
        seen += 1
    return len(lines)


def _starts_turn(line: _Line) -> bool:
    if line.kind == "turn_context":
        return True
    return line.kind == "event_msg" and line.payload.get("type") in _TURN_START_EVENTS


def fork_rollout(
    source_path: Path,
    codex_home: Path,
    *,
    new_thread_id: str,
    cut_after_user_turns: int | None,
    when: datetime | None = None,
) -> Path:
    """Write a new thread's rollout that starts as a copy of ``source_path``.

    Its session_meta is the source's (base instructions included) with the new id and
    ``forked_from_id``; the lines after it are copied up to, not including, the user turn number
    ``cut_after_user_turns + 1`` (``None`` copies everything). The source is only read, so a
    session open elsewhere can be forked. Blocking.
    """
    path, fd = _fork_file(source_path, codex_home, new_thread_id, cut_after_user_turns, when)
    _release(fd)
    return path


def _fork_file(
    source_path: Path,
    codex_home: Path,
    new_thread_id: str,
    cut_after_user_turns: int | None,
    when: datetime | None,
) -> tuple[Path, int]:
    if cut_after_user_turns is not None and cut_after_user_turns < 0:
        raise ValueError("cut_after_user_turns must be >= 0")
    warnings: list[str] = []
    lines = _read_lines(source_path, warnings)
    source_meta = _meta_from(source_path, lines)
    body = [line for line in lines[1:] if line.kind != "session_meta"]
    if cut_after_user_turns is not None:
        body = body[: _cut_index(body, cut_after_user_turns)]
    meta = dataclasses.replace(
        source_meta, id=new_thread_id, forked_from_id=source_meta.id, timestamp=rfc3339_now()
    )
    path = rollout_path(codex_home, new_thread_id, when)
    data = _line("session_meta", meta.to_payload()) + b"".join(line.raw + b"\n" for line in body)
    try:
        fd = _create_file(path, data, new_thread_id)
    except OSError as exc:
        raise RolloutError(f"cannot create rollout file {path}: {exc}") from None
    return path, fd
