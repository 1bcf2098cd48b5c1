"""``fs/watch`` and ``fs/unwatch``: ``fs/changed`` names what changed in a watched file or
directory (its direct entries). Changes are found by comparing snapshots a few times a second,
which needs no platform file-notification API and batches bursts of writes into one notice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.fs import confined
from codex_engine.app_server.registry import InvalidRequestError, method
from codex_engine.protocol.app_server import (
    EmptyResponse,
    FsChangedNotification,
    FsUnwatchParams,
    FsWatchParams,
    FsWatchResponse,
)

__all__ = ["POLL_INTERVAL_S", "stop_all"]

log = logging.getLogger(__name__)

#: How often a watched path is looked at; changes within one interval make one notice.
POLL_INTERVAL_S = 0.25

Snapshot = dict[Path, tuple[int, int, bool]]


def _stat(path: Path) -> tuple[int, int, bool] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, path.is_dir()


def snapshot(path: Path) -> Snapshot:
    """The path and, for a directory, its direct entries: modification time, size, kind."""
    found: Snapshot = {}
    own = _stat(path)
    if own is None:
        return found
    found[path] = own
    if own[2]:
        with contextlib.suppress(OSError), os.scandir(path) as entries:
            for entry in entries:
                child = Path(entry.path)
                stat = _stat(child)
                if stat is not None:
                    found[child] = stat
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    paths = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return sorted(str(p) for p in paths)


async def _watch(ctx: ServerContext, watch_id: str, path: Path, first: Snapshot) -> None:
    previous = first
    while True:
        await asyncio.sleep(POLL_INTERVAL_S)
        current = await asyncio.to_thread(snapshot, path)
        paths = changed(previous, current)
        previous = current
        if paths:
            note = FsChangedNotification(watch_id=watch_id, changed_paths=paths)
            await ctx.peer.notify("fs/changed", note.to_wire())


@method("fs/watch", FsWatchParams)
async def fs_watch(ctx: ServerContext, p: FsWatchParams, reply: Reply) -> Any:
    if p.watch_id in ctx.watches:
        raise InvalidRequestError(
            f"watchId {p.watch_id!r} is already in use on this connection; pick another one or "
            "fs/unwatch it first"
        )
    path = confined(ctx, p.path)
    first = await asyncio.to_thread(snapshot, path)
    ctx.watches[p.watch_id] = asyncio.create_task(_watch(ctx, p.watch_id, path, first))
    return FsWatchResponse(path=str(path)).to_wire()


@method("fs/unwatch", FsUnwatchParams)
async def fs_unwatch(ctx: ServerContext, p: FsUnwatchParams, reply: Reply) -> Any:
    task = ctx.watches.pop(p.watch_id, None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return EmptyResponse().to_wire()


async def stop_all(ctx: ServerContext) -> None:
    """End every watch of the connection (it is closing)."""
    tasks = list(ctx.watches.values())
    ctx.watches.clear()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
