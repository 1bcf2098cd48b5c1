"""``thread/loaded/list``, ``thread/unsubscribe`` and ``thread/delete``: which threads this server
holds, letting one go (it is unloaded, its record kept), and deleting one's record for good."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from codex_engine import _filelock
from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.pagination import CursorError, offset_page
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.app_server.state import ThreadState
from codex_engine.core.rollout import index_for
from codex_engine.errors import CodexError, SessionLockedError
from codex_engine.protocol.app_server import (
    EmptyResponse,
    ThreadDeletedNotification,
    ThreadIdParams,
    ThreadLoadedListParams,
    ThreadLoadedListResponse,
    ThreadStatusChangedNotification,
    ThreadUnsubscribeResponse,
)
from codex_engine.protocol.app_server.thread_admin import ThreadClosedNotification

#: How long an unsubscribed thread's running turn gets to end after it is interrupted.
UNLOAD_GRACE_S = 5.0


async def _unload(ctx: ServerContext, thread: ThreadState) -> None:
    """Close the thread's session (its rollout is flushed and released) and say so."""
    if ctx.threads.get(thread.id) is not thread:
        return
    thread_id = thread.id
    del ctx.threads[thread_id]
    await thread.stack.aclose()
    note = ThreadStatusChangedNotification(thread_id=thread_id, status={"type": "notLoaded"})
    await ctx.peer.notify("thread/status/changed", note.to_wire())
    closed = ThreadClosedNotification(thread_id=thread_id)
    await ctx.peer.notify("thread/closed", closed.to_wire())


@method("thread/loaded/list", ThreadLoadedListParams)
async def thread_loaded_list(ctx: ServerContext, p: ThreadLoadedListParams, reply: Reply) -> Any:
    try:
        page = offset_page(list(ctx.threads), cursor=p.cursor, limit=p.limit)
    except CursorError:
        raise InvalidParamsError(f"`cursor` {p.cursor!r} is not one this server gave") from None
    return ThreadLoadedListResponse(data=page.items, next_cursor=page.next_cursor).to_wire()


@method("thread/unsubscribe", ThreadIdParams)
async def thread_unsubscribe(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> None:
    """This connection is the thread's only subscriber: letting go unloads it. A running turn
    is interrupted first (nobody would see its notifications)."""
    thread = ctx.threads.get(p.thread_id)
    if thread is None:
        await reply.result(ThreadUnsubscribeResponse(status="notLoaded").to_wire())
        return
    await reply.result(ThreadUnsubscribeResponse(status="unsubscribed").to_wire())
    task = thread.active.task if thread.active is not None else None
    if task is not None:
        thread.interrupt()
        await asyncio.wait([task], timeout=UNLOAD_GRACE_S)
    await _unload(ctx, thread)


def _delete_file(path: Path, thread_id: str) -> None:
    """Remove a rollout unless another process is writing it. Blocking."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        if not _filelock.try_lock(fd):
            raise SessionLockedError(thread_id, pid=_filelock.holder_pid(path))
        path.unlink()
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


@method("thread/delete", ThreadIdParams)
async def thread_delete(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> None:
    loaded = ctx.threads.get(p.thread_id)
    path: Path | None
    if loaded is not None:
        if loaded.active is not None:
            raise InvalidRequestError(
                f"thread {p.thread_id} has turn {loaded.active.id} in progress; wait for "
                "turn/completed or interrupt it before deleting the thread"
            )
        recorded = loaded.rollout_path()
        await _unload(ctx, loaded)
        path = Path(recorded) if recorded is not None else None
    else:
        try:
            found = await asyncio.to_thread(index_for(ctx.codex_home).find, p.thread_id)
        except ValueError:
            found = None  # not an id any file could carry
        if found is None:
            raise InvalidRequestError(
                f"no recorded thread {p.thread_id} under {ctx.codex_home}; check the id "
                "(thread/list shows the recorded ones, archived=true the archived ones)"
            )
        path = found[0]
    if path is not None:
        try:
            await asyncio.to_thread(_delete_file, path, p.thread_id)
        except OSError as exc:
            raise CodexError(f"cannot delete {path}: {exc.strerror}") from None
    await reply.result(EmptyResponse().to_wire())
    note = ThreadDeletedNotification(thread_id=p.thread_id)
    await ctx.peer.notify("thread/deleted", note.to_wire())
