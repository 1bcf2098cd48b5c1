"""Writing rollout files: the recorder that appends a running session's lines, the file created
for a new or forked thread, and the resume that continues an existing one.

The writer holds an exclusive ``flock`` on its file for as long as it is open; readers take none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from codex_engine import _filelock
from codex_engine.core.rollout.paths import rollout_path
from codex_engine.core.rollout.records import (
    KINDS,
    RolloutError,
    RolloutKind,
    SessionMeta,
    decode_line,
    decode_meta_line,
    encode_line,
    rfc3339_now,
)
from codex_engine.errors import SessionLockedError
from codex_engine.protocol.items import ResponseItem, item_to_json

__all__ = ["RolloutRecorder", "append_record", "fork_rollout"]


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
    """Make the file end with a whole record and a newline, as the reader's rule sees it: a torn
    last line (the last non-blank one, not a record) is cut off and the reason returned; a whole
    one that lacks its newline gets it. Otherwise the next append would glue onto it, or leave
    the torn line in the middle of the file where the reader refuses it."""
    size = os.lseek(fd, 0, os.SEEK_END)
    block = 65536
    pos = size
    tail = b""
    newline = -1
    while pos > 0:
        start = max(pos - block, 0)
        tail = os.pread(fd, pos - start, start) + tail
        pos = start
        newline = tail.rstrip().rfind(b"\n")
        if newline >= 0:
            break
    last = tail.rstrip()[newline + 1 :]
    if not last.strip():
        return None
    try:
        decode_line(last)
    except ValueError as exc:
        os.ftruncate(fd, pos + newline + 1)
        return str(exc)
    if not tail.endswith(b"\n"):
        os.lseek(fd, 0, os.SEEK_END)
        _write_all(fd, b"\n")
    return None


def _open_for_resume(path: Path) -> tuple[int, str, str | None]:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    try:
        with open(path, "rb") as reader:
            first = reader.readline()
        try:
            meta = decode_meta_line(first)
        except ValueError as exc:
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
                _create_file, path, encode_line("session_meta", meta.to_payload()), meta.id
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
        if kind == "session_meta" or kind not in KINDS:
            raise ValueError(f"cannot record a {kind!r} line")
        if self._closing:
            raise RolloutError(f"rollout {self.path} is closed")
        self._queue.put_nowait(encode_line(kind, payload))

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
    # The reader is for resume and fork only: a new session's writer does without it.
    from codex_engine.core.rollout.reader import first_user_turns, read_rollout

    if cut_after_user_turns is not None and cut_after_user_turns < 0:
        raise ValueError("cut_after_user_turns must be >= 0")
    source = read_rollout(source_path)
    source_meta = source.meta
    body = [record for record in source.records if record.kind != "session_meta"]
    if cut_after_user_turns is not None:
        body = first_user_turns(body, cut_after_user_turns)
    meta = msgspec.structs.replace(
        source_meta, id=new_thread_id, forked_from_id=source_meta.id, timestamp=rfc3339_now()
    )
    path = rollout_path(codex_home, new_thread_id, when)
    copied = b"".join(record.raw + b"\n" for record in body)
    data = encode_line("session_meta", meta.to_payload()) + copied
    try:
        fd = _create_file(path, data, new_thread_id)
    except OSError as exc:
        raise RolloutError(f"cannot create rollout file {path}: {exc}") from None
    return path, fd


def append_record(path: Path, kind: RolloutKind, payload: Mapping[str, Any]) -> None:
    """Append one line to a rollout no recorder here has open (``thread/name/set`` on a thread
    that is not loaded). One ``O_APPEND`` write, so the line never interleaves with another
    writer's. When no writer holds the file, its torn last line (a crash) is cut off first, as
    on resume, so the new line does not leave it in the middle. Blocking; raises ``OSError``."""
    line = encode_line(kind, payload)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    try:
        # A live writer (here or elsewhere) keeps its file whole; only an orphan needs mending.
        if _filelock.try_lock(fd):
            _repair_tail(fd)
        _write_all(fd, line)
    finally:
        os.close(fd)
