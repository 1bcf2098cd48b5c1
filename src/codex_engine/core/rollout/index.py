"""An index of the rollout files under one CODEX_HOME, so listing threads does not re-read files
that have not changed since the last call.

Design: in memory, one :class:`RolloutIndex` per CODEX_HOME per process (:func:`index_for`).
Each call of :meth:`~RolloutIndex.entries` lists the directories and stats every file (cheap:
no file is opened); a file's :class:`ThreadSummary` is read only when asked for, and kept with
the ``(mtime_ns, size)`` the file had *before* it was read. A later call re-reads the file only
if either changed: rollouts are append-only, so every write changes the size. Files that are
gone are forgotten at the next scan. Nothing is persisted: the app-server, the process that
lists again and again, keeps its index for its lifetime, while a one-shot ``exec`` does at most
one lookup, which reads names (by id) or first lines until a match (``resume --last``), so a
file on disk would add a format, its invalidation and cross-process locking for little gain.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import msgspec

from codex_engine.core.compaction import is_user_turn_message
from codex_engine.core.rollout.paths import (
    check_thread_id,
    find_file,
    rollout_files,
    scan,
    thread_id_of,
)
from codex_engine.core.rollout.reader import Rollout, read_meta, read_rollout
from codex_engine.core.rollout.records import NAME_EVENT, RolloutError, SessionMeta
from codex_engine.protocol.items import ItemError, Message, parse_item

__all__ = [
    "IndexEntry",
    "RolloutIndex",
    "ThreadSummary",
    "find_rollout",
    "index_for",
    "latest_rollout",
    "summarize",
]


class IndexEntry(msgspec.Struct, frozen=True):
    """A rollout file as the last directory scan saw it."""

    path: Path
    #: The file name: ``rollout-YYYY-MM-DDThh-mm-ss-<id>.jsonl``.
    name: str
    thread_id: str
    archived: bool
    mtime_ns: int
    size: int

    def created_key(self) -> str:
        # Rollout names start with the creation time.
        return self.name

    def updated_key(self) -> str:
        return f"{self.mtime_ns:020d}|{self.name}"

    @property
    def updated_at(self) -> int:
        """Last write, in whole seconds since the epoch."""
        return self.mtime_ns // 1_000_000_000


class ThreadSummary(msgspec.Struct, frozen=True):
    """What a listing shows of a recorded thread, read from its records."""

    meta: SessionMeta
    #: The text of the first user turn's message ("" before the first turn).
    preview: str = ""
    #: The last name recorded (``thread/name/set``); None when unnamed or the name was cleared.
    name: str | None = None
    #: From the last ``turn_context``.
    model: str | None = None
    reasoning_effort: str | None = None


def summarize(rollout: Rollout) -> ThreadSummary:
    """The summary of a rollout already read (pure)."""
    preview = ""
    name: str | None = None
    model: str | None = None
    effort: str | None = None
    for record in rollout.records:
        payload = record.payload
        if record.kind == "turn_context":
            turn_model, turn_effort = payload.get("model"), payload.get("effort")
            model = turn_model if isinstance(turn_model, str) else model
            effort = turn_effort if isinstance(turn_effort, str) else None
        elif record.kind == "response_item":
            if preview or payload.get("type") != "message" or payload.get("role") != "user":
                continue
            try:
                message = parse_item(payload)
            except (ItemError, ValueError, TypeError):
                continue
            if isinstance(message, Message) and is_user_turn_message(message):
                preview = message.text()
        elif record.kind == "event_msg" and payload.get("type") == NAME_EVENT:
            value = payload.get("thread_name")
            name = value if isinstance(value, str) and value else None
    return ThreadSummary(rollout.meta, preview, name, model, effort)


class _Cached(msgspec.Struct, frozen=True):
    mtime_ns: int
    size: int
    archived: bool
    #: None: the reader refuses the file (see :mod:`.reader`), so it is not listed.
    summary: ThreadSummary | None


class RolloutIndex:
    """The rollout files of one CODEX_HOME and their summaries; safe to use from threads.

    Every method is blocking file-system work: call it through ``asyncio.to_thread``.
    """

    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        #: Whole files read so far (a summary read); tests and benchmarks watch it.
        self.files_read = 0
        self._lock = threading.Lock()
        # The last scan of sessions (False) and of the archive (True), by path. Each scan puts
        # a new dict in place and never changes an old one, so readers need no lock.
        self._scanned: dict[bool, dict[str, IndexEntry]] = {False: {}, True: {}}
        self._cache: dict[str, _Cached] = {}
        self._by_id: dict[str, tuple[Path, bool]] = {}

    def entries(self, *, archived: bool) -> list[IndexEntry]:
        """Every rollout under sessions (or the archive), each stat'ed now. Opens no file.

        An unchanged file keeps its entry object from the last scan, so a warm scan costs a
        directory listing and a ``stat`` per file."""
        previous = self._scanned[archived]
        current: dict[str, IndexEntry] = {}
        fresh: list[IndexEntry] = []
        for found in scan(self.codex_home, archived=archived):
            try:
                st = found.stat()
            except OSError:
                continue  # gone since the directory was listed
            entry = previous.get(found.path)
            if entry is None or (entry.mtime_ns, entry.size) != (st.st_mtime_ns, st.st_size):
                thread_id = thread_id_of(found.name) or ""
                entry = IndexEntry(
                    Path(found.path), found.name, thread_id, archived, st.st_mtime_ns, st.st_size
                )
                fresh.append(entry)
            current[found.path] = entry
        with self._lock:
            self._scanned[archived] = current
            gone = [
                key
                for key, cached in self._cache.items()
                if cached.archived == archived and key not in current
            ]
            for key in gone:
                del self._cache[key]
            for entry in fresh:
                if archived:
                    # Sessions first, as in find(): an archived copy never hides a live one.
                    self._by_id.setdefault(entry.thread_id, (entry.path, archived))
                else:
                    self._by_id[entry.thread_id] = (entry.path, archived)
        return list(current.values())

    def summary(self, entry: IndexEntry) -> ThreadSummary | None:
        """The entry's summary, read again only if the file changed since it was last read;
        None when the reader refuses the file."""
        key = str(entry.path)
        cached = self._cache.get(key)
        if cached is not None and (cached.mtime_ns, cached.size) == (entry.mtime_ns, entry.size):
            return cached.summary
        try:
            summary: ThreadSummary | None = _slim(summarize(read_rollout(entry.path)))
        except RolloutError:
            summary = None
        with self._lock:
            self.files_read += 1
            # Keyed by the stat taken before the read: a write in between only costs a re-read.
            self._cache[key] = _Cached(entry.mtime_ns, entry.size, entry.archived, summary)
        return summary

    def find(self, thread_id: str) -> tuple[Path, bool] | None:
        """``(path, archived)`` of a thread's rollout, looking in sessions first. Raises
        ``ValueError`` for an id that could not be part of a file name."""
        check_thread_id(thread_id)
        with self._lock:
            known = self._by_id.get(thread_id)
        if known is not None and known[0].is_file():
            return known
        for archived in (False, True):
            path = find_file(self.codex_home, thread_id, archived=archived)
            if path is not None:
                with self._lock:
                    self._by_id[thread_id] = (path, archived)
                return path, archived
        return None

    def latest(self, cwd: Path | None = None) -> Path | None:
        """The most recently started rollout (for ``resume --last``), optionally only among those
        recorded in ``cwd``. Judged by each file's first line, newest first; files whose first
        line is not a session_meta are passed over."""
        wanted = cwd.resolve() if cwd is not None else None
        for path in rollout_files(self.codex_home):
            meta = self._meta(path)
            if meta is None:
                continue
            if wanted is None or Path(meta.cwd).resolve() == wanted:
                return path
        return None

    def _meta(self, path: Path) -> SessionMeta | None:
        cached = self._cache.get(str(path))
        if cached is not None and cached.summary is not None:
            try:
                st = os.stat(path)
            except OSError:
                return None
            if (cached.mtime_ns, cached.size) == (st.st_mtime_ns, st.st_size):
                return cached.summary.meta
        return read_meta(path)


def _slim(summary: ThreadSummary) -> ThreadSummary:
    # A listing never shows the system prompt or unknown fields, and they can be large.
    meta = msgspec.structs.replace(summary.meta, base_instructions=None, extra={})
    return msgspec.structs.replace(summary, meta=meta)


_INDEXES: dict[Path, RolloutIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(codex_home: Path) -> RolloutIndex:
    """This process's index of ``codex_home``, created on first use."""
    key = Path(os.path.abspath(codex_home))
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = RolloutIndex(key)
        return index


def find_rollout(codex_home: Path, thread_id: str) -> Path | None:
    """The rollout of ``thread_id`` under sessions (archived ones are not resumable), if any.
    Blocking; raises ``ValueError`` for an id that could not be part of a file name."""
    found = index_for(codex_home).find(thread_id)
    if found is None or found[1]:
        return None
    return found[0]


def latest_rollout(codex_home: Path, cwd: Path | None = None) -> Path | None:
    """See :meth:`RolloutIndex.latest`. Blocking."""
    return index_for(codex_home).latest(cwd)
