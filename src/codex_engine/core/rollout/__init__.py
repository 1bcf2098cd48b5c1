"""The rollout store: sessions recorded as JSON lines under ``CODEX_HOME``, written while turns
run and read back to resume, fork, read and list threads.

- :mod:`.records`: one line (kinds, :class:`SessionMeta`, encode/decode);
- :mod:`.paths`: where files live (``sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``, the
  archive), the walk over them and the lookup by id;
- :mod:`.writer`: :class:`RolloutRecorder` (create, resume, fork; the one writer's lock);
- :mod:`.reader`: the one rule for lines that are not records, and the history a resume uses;
- :mod:`.index`: per-CODEX_HOME summaries for listing, kept until a file changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_engine._lazy import lazy_exports

if TYPE_CHECKING:
    from codex_engine.core.rollout.index import (
        IndexEntry,
        RolloutIndex,
        ThreadSummary,
        find_rollout,
        index_for,
        latest_rollout,
    )
    from codex_engine.core.rollout.paths import archive_file, rollout_path, unarchive_file
    from codex_engine.core.rollout.reader import RolloutContents, load_rollout, read_rollout
    from codex_engine.core.rollout.records import (
        NAME_EVENT,
        ROLLBACK_EVENT,
        RolloutError,
        RolloutKind,
        SessionMeta,
        rfc3339_now,
    )
    from codex_engine.core.rollout.writer import RolloutRecorder, append_record, fork_rollout

#: Where each name lives. Loaded on first use (PEP 562): a new session writes a rollout but reads
#: none, so the reader and the index (listing, resume) stay off the path of a one-turn `exec`.
_EXPORTS: dict[str, str] = {
    "IndexEntry": "index",
    "RolloutIndex": "index",
    "ThreadSummary": "index",
    "find_rollout": "index",
    "index_for": "index",
    "latest_rollout": "index",
    "archive_file": "paths",
    "rollout_path": "paths",
    "unarchive_file": "paths",
    "RolloutContents": "reader",
    "load_rollout": "reader",
    "read_rollout": "reader",
    "NAME_EVENT": "records",
    "ROLLBACK_EVENT": "records",
    "RolloutError": "records",
    "RolloutKind": "records",
    "SessionMeta": "records",
    "rfc3339_now": "records",
    "RolloutRecorder": "writer",
    "append_record": "writer",
    "fork_rollout": "writer",
}

__all__ = [
    "NAME_EVENT",
    "ROLLBACK_EVENT",
    "IndexEntry",
    "RolloutContents",
    "RolloutError",
    "RolloutIndex",
    "RolloutKind",
    "RolloutRecorder",
    "SessionMeta",
    "ThreadSummary",
    "append_record",
    "archive_file",
    "find_rollout",
    "fork_rollout",
    "index_for",
    "latest_rollout",
    "load_rollout",
    "read_rollout",
    "rfc3339_now",
    "rollout_path",
    "unarchive_file",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
