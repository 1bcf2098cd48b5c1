"""``thread/*`` methods: start, resume and fork sessions; list, read, archive and name threads.

A loaded thread is a :class:`ThreadState` in ``ctx.threads``; a recorded one is a rollout file,
found and listed through this process's index of CODEX_HOME (:mod:`codex_engine.core.rollout`)
and shown through :mod:`~codex_engine.app_server.history`.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from codex_engine.app_server import history
from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.handlers.mcp import announce_startup
from codex_engine.app_server.handlers.thread_meta import recorded_git_info
from codex_engine.app_server.pagination import CursorError
from codex_engine.app_server.registry import (
    InvalidParamsError,
    InvalidRequestError,
    method,
)
from codex_engine.app_server.settings import (
    load_settings,
    resolve_cwd,
    sandbox_policy,
    settings_from_history,
    stored_cwd,
    thread_overrides,
)
from codex_engine.app_server.state import THREAD_SOURCE, ThreadState
from codex_engine.config.loader import Config
from codex_engine.core.approvals import ApprovalsReviewer
from codex_engine.core.launch import fork_session, open_session, resume_session
from codex_engine.core.rollout import (
    NAME_EVENT,
    append_record,
    archive_file,
    index_for,
    unarchive_file,
)
from codex_engine.core.session import Session, SessionSettings
from codex_engine.errors import CodexError
from codex_engine.protocol.app_server import (
    ConfigWarningNotification,
    Thread,
    ThreadForkParams,
    ThreadIdNotification,
    ThreadIdParams,
    ThreadListParams,
    ThreadListResponse,
    ThreadNameUpdatedNotification,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadSetNameParams,
    ThreadStartedNotification,
    ThreadStartParams,
    ThreadStartResponse,
    ThreadUnarchiveResponse,
    WarningNotification,
)
from codex_engine.protocol.app_server.notifications import DeprecationNoticeNotification

__all__ = ["fork_loaded", "stored_wire"]

# -- shared ------------------------------------------------------------------------------------


async def _find_stored(ctx: ServerContext, thread_id: str) -> tuple[Path, bool]:
    try:
        found = await asyncio.to_thread(index_for(ctx.codex_home).find, thread_id)
    except ValueError:
        found = None  # not an id any file could carry
    if found is None:
        raise InvalidRequestError(
            f"no recorded thread {thread_id} under {ctx.codex_home}; check the id "
            "(thread/list shows the recorded ones)"
        )
    return found


async def _read_stored(path: Path, archived: bool, *, with_turns: bool) -> history.StoredThread:
    # A file the rollout reader refuses raises RolloutError (a CodexError) naming file and line.
    return await asyncio.to_thread(
        history.read_stored_thread, path, archived=archived, with_turns=with_turns
    )


def stored_wire(ctx: ServerContext, stored: history.StoredThread, *, include_turns: bool) -> Thread:
    """A recorded thread as ``Thread`` (as loaded here, when it is)."""
    loaded = ctx.threads.get(stored.meta.id)
    if loaded is not None:
        return loaded.to_wire(include_turns=include_turns)
    return history.to_wire(stored, include_turns=include_turns)


def _new_state(
    ctx: ServerContext,
    config: Config,
    settings: SessionSettings,
    *,
    approvals_reviewer: ApprovalsReviewer | None,
    ephemeral: bool = False,
    stored: history.StoredThread | None = None,
) -> ThreadState:
    return ThreadState(
        ctx.peer,
        config=config,
        settings=settings,
        approvals_reviewer=approvals_reviewer or "user",
        originator=ctx.originator(),
        ephemeral=ephemeral,
        stored=stored,
    )


async def _launch(
    ctx: ServerContext, thread: ThreadState, opener: AbstractAsyncContextManager[Session]
) -> None:
    """Open the session; on failure nothing stays open (the CodexError answers -32603)."""
    try:
        thread.attach(await thread.stack.enter_async_context(opener))
    except BaseException:
        await thread.stack.aclose()
        raise
    ctx.threads[thread.id] = thread


def _session_response(thread: ThreadState, *, include_turns: bool) -> dict[str, Any]:
    s = thread.settings
    return ThreadStartResponse(
        thread=thread.to_wire(include_turns=include_turns),
        model=s.model_info.slug,
        model_provider=thread.config.model_provider_id,
        cwd=str(s.cwd),
        approval_policy=s.approval_policy,
        approvals_reviewer=thread.approvals_reviewer,
        sandbox=sandbox_policy(s.sandbox_mode, s.network_access),
        reasoning_effort=s.reasoning_effort,
        runtime_workspace_roots=thread.environment().runtime_workspace_roots,
    ).to_wire()


async def _warn(ctx: ServerContext, thread: ThreadState, warning: str | None) -> None:
    if warning:
        note = WarningNotification(message=warning, thread_id=thread.id)
        await ctx.peer.notify("warning", note.to_wire())


async def _announce(
    ctx: ServerContext, thread: ThreadState, config: Config, warning: str | None
) -> None:
    await ctx.peer.notify(
        "thread/started", ThreadStartedNotification(thread=thread.to_wire()).to_wire()
    )
    await _warn(ctx, thread, warning)
    for notice in config.feature_warnings:
        # A deprecated key (config/features.py words it "... is deprecated: <what instead>") is
        # announced as a deprecation, as the reference does; other problems as config warnings.
        what, deprecated, instead = notice.partition(" is deprecated: ")
        if deprecated:
            summary = f"{what} is deprecated."
            deprecation = DeprecationNoticeNotification(summary=summary, details=instead)
            await ctx.peer.notify("deprecationNotice", deprecation.to_wire())
        else:
            note = ConfigWarningNotification(summary=notice)
            await ctx.peer.notify("configWarning", note.to_wire())


# -- thread/start, thread/resume, thread/fork --------------------------------------------------


@method("thread/start", ThreadStartParams)
async def thread_start(ctx: ServerContext, p: ThreadStartParams, reply: Reply) -> None:
    cwd = resolve_cwd(p.cwd)
    config, settings, model_warning = load_settings(ctx, thread_overrides(p), cwd)
    thread = _new_state(
        ctx, config, settings, approvals_reviewer=p.approvals_reviewer, ephemeral=bool(p.ephemeral)
    )
    thread.thread_source = p.thread_source if isinstance(p.thread_source, str) else None
    opener = open_session(
        config,
        cwd=cwd,
        approver=thread.approve,
        ask_user=thread.ask_user_input,
        env=ctx.env,
        auth_manager=ctx.auth_for(config),
        ephemeral=thread.ephemeral,
        source=THREAD_SOURCE,
        settings=settings,
    )
    await _launch(ctx, thread, opener)
    await reply.result(_session_response(thread, include_turns=False))
    await _announce(ctx, thread, config, model_warning)
    await announce_startup(ctx, thread)


@method("thread/resume", ThreadResumeParams)
async def thread_resume(ctx: ServerContext, p: ThreadResumeParams, reply: Reply) -> Any:
    loaded = ctx.threads.get(p.thread_id)
    if loaded is not None:
        # Already running here: rejoin it as it is.
        return _session_response(loaded, include_turns=not p.exclude_turns)
    path, archived = await _find_stored(ctx, p.thread_id)
    if archived:
        raise InvalidRequestError(
            f"thread {p.thread_id} is archived; send thread/unarchive before resuming it"
        )
    stored = await _read_stored(path, False, with_turns=True)
    cwd = stored_cwd(p, stored)
    overrides = thread_overrides(p)
    settings_from_history(p, stored, overrides)
    config, settings, model_warning = load_settings(ctx, overrides, cwd)
    thread = _new_state(
        ctx, config, settings, approvals_reviewer=p.approvals_reviewer, stored=stored
    )
    opener = resume_session(
        config,
        path,
        cwd=cwd,
        approver=thread.approve,
        ask_user=thread.ask_user_input,
        env=ctx.env,
        auth_manager=ctx.auth_for(config),
    )
    await _launch(ctx, thread, opener)
    thread.git_override = await asyncio.to_thread(recorded_git_info, path)
    await reply.result(_session_response(thread, include_turns=not p.exclude_turns))
    await _warn(ctx, thread, model_warning)
    await announce_startup(ctx, thread)


async def _fork_source(ctx: ServerContext, p: ThreadForkParams) -> tuple[Path, bool]:
    """The rollout to fork from: the loaded thread's (flushed) or a recorded one."""
    source = ctx.threads.get(p.thread_id)
    if source is None:
        return await _find_stored(ctx, p.thread_id)
    recorder = source.session.recorder if source.session is not None else None
    if recorder is None:
        raise InvalidRequestError(
            f"thread {p.thread_id} is ephemeral: it has no recorded history to fork"
        )
    active = source.active
    if active is not None and (p.last_turn_id is None or p.last_turn_id == active.id):
        raise InvalidRequestError(
            f"thread {p.thread_id} has turn {active.id} in progress; wait for "
            "turn/completed, or fork through an earlier turn with lastTurnId"
        )
    await recorder.flush()
    return recorder.path, False


@method("thread/fork", ThreadForkParams)
async def thread_fork(ctx: ServerContext, p: ThreadForkParams, reply: Reply) -> None:
    path, archived = await _fork_source(ctx, p)
    stored = await _read_stored(path, archived, with_turns=True)
    cut: int | None = None
    if p.last_turn_id is not None:
        ids = [turn.id for turn in stored.turns]
        if p.last_turn_id not in ids:
            raise InvalidParamsError(
                f"`lastTurnId` {p.last_turn_id} is not a completed turn of thread {p.thread_id}"
            )
        cut = ids.index(p.last_turn_id) + 1
    cwd = stored_cwd(p, stored)
    overrides = thread_overrides(p)
    settings_from_history(p, stored, overrides)
    config, settings, model_warning = load_settings(ctx, overrides, cwd)
    thread = _new_state(
        ctx, config, settings, approvals_reviewer=p.approvals_reviewer, ephemeral=bool(p.ephemeral)
    )
    thread.thread_source = p.thread_source if isinstance(p.thread_source, str) else None
    opener = fork_session(
        config,
        path,
        cut_after_user_turns=cut,
        cwd=cwd,
        approver=thread.approve,
        ask_user=thread.ask_user_input,
        env=ctx.env,
        auth_manager=ctx.auth_for(config),
        ephemeral=thread.ephemeral,
    )
    await _launch(ctx, thread, opener)
    new_path = thread.rollout_path()
    if new_path is not None:
        forked = await _read_stored(Path(new_path), False, with_turns=True)
        thread.preview = forked.preview
        thread.past_turns = forked.turns
        thread.name = forked.name
    else:
        # Ephemeral: nothing written; the copied turns are the source's, through the cut.
        thread.preview = stored.preview
        thread.past_turns = stored.turns[:cut] if cut is not None else stored.turns
        thread.name = stored.name
    thread.forked_from_id = stored.meta.id
    await reply.result(_session_response(thread, include_turns=not p.exclude_turns))
    await _announce(ctx, thread, config, model_warning)
    await announce_startup(ctx, thread)


async def fork_loaded(ctx: ServerContext, source: ThreadState) -> ThreadState:
    """A new thread forked from loaded thread ``source`` with its settings (a detached review's
    thread), announced with ``thread/started``."""
    recorder = source.session.recorder if source.session is not None else None
    if recorder is None:
        raise InvalidRequestError(
            f"thread {source.id} is ephemeral: it has no recorded history to fork a review from; "
            "review it inline"
        )
    await recorder.flush()
    settings = source.settings
    thread = _new_state(ctx, source.config, settings, approvals_reviewer=source.approvals_reviewer)
    opener = fork_session(
        source.config,
        recorder.path,
        cut_after_user_turns=None,
        cwd=settings.cwd,
        approver=thread.approve,
        ask_user=thread.ask_user_input,
        env=ctx.env,
        auth_manager=ctx.auth_for(source.config),
    )
    await _launch(ctx, thread, opener)
    new_path = thread.rollout_path()
    if new_path is not None:
        forked = await _read_stored(Path(new_path), False, with_turns=True)
        thread.preview, thread.past_turns, thread.name = forked.preview, forked.turns, forked.name
    thread.forked_from_id = source.id
    await _announce(ctx, thread, source.config, None)
    return thread


# -- thread/list, thread/read ------------------------------------------------------------------


@method("thread/list", ThreadListParams)
async def thread_list(ctx: ServerContext, p: ThreadListParams, reply: Reply) -> Any:
    if p.sort_key == "section_position":
        raise InvalidParamsError(
            "`sortKey` section_position is not supported in codex-engine; use created_at or "
            "updated_at"
        )
    by_update = p.sort_key in ("updated_at", "recency_at")
    index = index_for(ctx.codex_home)
    try:
        page = await asyncio.to_thread(history.list_page, index, p, by_update=by_update)
    except CursorError:
        raise InvalidParamsError(
            f"`cursor` {p.cursor!r} is not one this server gave for this sort order"
        ) from None
    return ThreadListResponse(
        data=[stored_wire(ctx, s, include_turns=False) for s in page.items],
        next_cursor=page.next_cursor,
    ).to_wire()


#: What 0.163 says when a paginated thread is read whole.
HYDRATION_NOTICE = DeprecationNoticeNotification(
    summary="Reading a thread's whole history (`includeTurns`) is deprecated for paginated "
    "threads; read without it and page with `thread/turns/list` and `thread/items/list`."
)


@method("thread/read", ThreadReadParams)
async def thread_read(ctx: ServerContext, p: ThreadReadParams, reply: Reply) -> Any:
    loaded = ctx.threads.get(p.thread_id)
    if p.include_turns and (loaded is None or not loaded.ephemeral):
        await ctx.peer.notify("deprecationNotice", HYDRATION_NOTICE.to_wire())
    if loaded is not None:
        thread = loaded.to_wire(include_turns=p.include_turns)
    else:
        path, archived = await _find_stored(ctx, p.thread_id)
        stored = await _read_stored(path, archived, with_turns=p.include_turns)
        thread = stored_wire(ctx, stored, include_turns=p.include_turns)
        git = await asyncio.to_thread(recorded_git_info, path)
        if git is not None:
            thread.git_info = git if any(v is not None for v in git.values()) else None
    return ThreadReadResponse(thread=thread).to_wire()


# -- thread/archive, thread/unarchive, thread/name/set -----------------------------------------


@method("thread/archive", ThreadIdParams)
async def thread_archive(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> None:
    loaded = ctx.threads.get(p.thread_id)
    if loaded is not None:
        if loaded.active is not None:
            raise InvalidRequestError(
                f"thread {p.thread_id} has turn {loaded.active.id} in progress; wait for "
                "turn/completed or interrupt it before archiving"
            )
        recorded = loaded.rollout_path()
        if recorded is None:
            raise InvalidRequestError(
                f"thread {p.thread_id} is ephemeral: it has no rollout to archive"
            )
        # Archiving unloads the thread: its rollout file is closed before it moves.
        del ctx.threads[p.thread_id]
        await loaded.stack.aclose()
        path = Path(recorded)
    else:
        path, archived = await _find_stored(ctx, p.thread_id)
        if archived:
            raise InvalidRequestError(f"thread {p.thread_id} is already archived")
    try:
        await asyncio.to_thread(archive_file, ctx.codex_home, path)
    except OSError as exc:
        raise CodexError(f"cannot move {path}: {exc.strerror}") from None
    await reply.result({})
    note = ThreadIdNotification(thread_id=p.thread_id)
    await ctx.peer.notify("thread/archived", note.to_wire())


@method("thread/unarchive", ThreadIdParams)
async def thread_unarchive(ctx: ServerContext, p: ThreadIdParams, reply: Reply) -> None:
    path, archived = await _find_stored(ctx, p.thread_id)
    if not archived:
        raise InvalidRequestError(f"thread {p.thread_id} is not archived")
    try:
        restored = await asyncio.to_thread(unarchive_file, ctx.codex_home, path)
    except (OSError, ValueError) as exc:
        raise CodexError(f"cannot move {path}: {exc}") from None
    stored = await _read_stored(restored, False, with_turns=False)
    response = ThreadUnarchiveResponse(thread=stored_wire(ctx, stored, include_turns=False))
    await reply.result(response.to_wire())
    note = ThreadIdNotification(thread_id=p.thread_id)
    await ctx.peer.notify("thread/unarchived", note.to_wire())


@method("thread/name/set", ThreadSetNameParams)
async def thread_set_name(ctx: ServerContext, p: ThreadSetNameParams, reply: Reply) -> None:
    name = p.name.strip() or None
    loaded = ctx.threads.get(p.thread_id)
    if loaded is not None:
        loaded.name = name
        recorder = loaded.session.recorder if loaded.session is not None else None
        if recorder is not None:
            recorder.record("event_msg", {"type": NAME_EVENT, "thread_name": name})
            await recorder.flush()
    else:
        path, _archived = await _find_stored(ctx, p.thread_id)
        try:
            payload = {"type": NAME_EVENT, "thread_name": name}
            await asyncio.to_thread(append_record, path, "event_msg", payload)
        except OSError as exc:
            raise CodexError(f"cannot write {path}: {exc.strerror}") from None
    await reply.result({})
    note = ThreadNameUpdatedNotification(thread_id=p.thread_id, thread_name=name)
    await ctx.peer.notify("thread/name/updated", note.to_wire())
