"""Where rollout files live: ``CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``, and
``CODEX_HOME/archived_sessions/`` (flat) for archived ones. The one file-name pattern, the
walk over it newest first, the lookup by thread id, and the moves in and out of the archive."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

__all__ = [
    "ARCHIVED_DIR",
    "SESSIONS_DIR",
    "archive_file",
    "check_thread_id",
    "find_file",
    "rollout_files",
    "rollout_path",
    "scan",
    "thread_id_of",
    "unarchive_file",
]

SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"

_THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_FILE_NAME = re.compile(
    r"^rollout-(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})T\d{2}-\d{2}-\d{2}-(?P<id>.+)\.jsonl$"
)


def check_thread_id(thread_id: str) -> None:
    """Raise ``ValueError`` unless ``thread_id`` is safe in a file name (nothing path-like)."""
    if not _THREAD_ID.match(thread_id):
        raise ValueError(f"invalid thread id {thread_id!r}")


def rollout_path(codex_home: Path, thread_id: str, when: datetime | None = None) -> Path:
    """Where a thread started at ``when`` (local time; default now) is recorded."""
    check_thread_id(thread_id)
    local = (when or datetime.now()).astimezone()
    day = codex_home / SESSIONS_DIR / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
    return day / f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{thread_id}.jsonl"


def thread_id_of(path: Path | str) -> str | None:
    """The thread id a rollout file's name carries, or None if it is not a rollout name."""
    match = _FILE_NAME.match(os.path.basename(path))
    return match.group("id") if match else None


def _subdirs(directory: str) -> list[str]:
    """The numbered subdirectories (years, months, days), newest first."""
    try:
        with os.scandir(directory) as entries:
            found = [e.path for e in entries if e.name.isdigit() and e.is_dir()]
    except OSError:
        return []
    return sorted(found, reverse=True)


def _rollouts_in(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            found = [e for e in entries if _FILE_NAME.match(e.name)]
    except OSError:
        return []
    # Names start with the local start time, and v7 thread ids sort by time too.
    return sorted(found, key=lambda e: e.name, reverse=True)


def scan(codex_home: Path, *, archived: bool = False) -> Iterator[os.DirEntry[str]]:
    """The rollout files under sessions (or the archive) as directory entries, newest first by
    name, lazily: a caller that stops early lists no more directories. Opens no file."""
    if archived:
        yield from _rollouts_in(os.path.join(codex_home, ARCHIVED_DIR))
        return
    for year in _subdirs(os.path.join(codex_home, SESSIONS_DIR)):
        for month in _subdirs(year):
            for day in _subdirs(month):
                yield from _rollouts_in(day)


def rollout_files(codex_home: Path, *, archived: bool = False) -> Iterator[Path]:
    """:func:`scan` as paths."""
    for entry in scan(codex_home, archived=archived):
        yield Path(entry.path)


def find_file(codex_home: Path, thread_id: str, *, archived: bool = False) -> Path | None:
    """The rollout file of ``thread_id`` under sessions (or the archive), if there is one.

    Blocking (a directory walk that stops at the match); raises ``ValueError`` for an id that
    could not be part of a file name.
    """
    check_thread_id(thread_id)
    for path in rollout_files(codex_home, archived=archived):
        if thread_id_of(path) == thread_id:
            return path
    return None


def archive_file(codex_home: Path, path: Path) -> Path:
    """Move a rollout into the archive; returns where it is now. Raises ``OSError``."""
    target_dir = codex_home / ARCHIVED_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    path.rename(target)
    return target


def unarchive_file(codex_home: Path, path: Path) -> Path:
    """Move an archived rollout back to the day its name says it started. Raises ``OSError``,
    or ``ValueError`` if the name is not a rollout name."""
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise ValueError(f"{path.name} is not a rollout file name")
    target_dir = codex_home / SESSIONS_DIR / match.group("y") / match.group("m") / match.group("d")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    path.rename(target)
    return target
