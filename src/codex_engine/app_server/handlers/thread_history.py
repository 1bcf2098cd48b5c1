"""A thread's history in pages and edits to it: ``thread/turns/list``, ``thread/items/list``
(loaded or recorded threads), ``thread/inject_items`` and ``thread/revert`` (loaded threads).

Pages are cut by :func:`~codex_engine.app_server.pagination.anchor_page`: a cursor names a turn
or an item, so pages stay right while the thread grows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from codex_engine.app_server import history
from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.pagination import CursorError, anchor_page
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.core.rollout import index_for
from codex_engine.protocol.app_server import EmptyResponse, ThreadItem, Turn
from codex_engine.protocol.app_server.thread_history import (
    ThreadInjectItemsParams,
    ThreadItemEntry,
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadRevertedNotification,
    ThreadRevertParams,
    ThreadRevertResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
)
from codex_engine.protocol.items import ItemError, ResponseItem, parse_item


async def thread_turns(ctx: ServerContext, thread_id: str) -> list[Turn]:
    """Every turn of a thread with all its items: as loaded here, else as recorded."""
    loaded = ctx.threads.get(thread_id)
    if loaded is not None:
        if loaded.ephemeral:
            # As on the reference: only recorded history is paged.
            raise InvalidRequestError(
                f"thread {thread_id} is ephemeral: its history is not paged; read it with "
                "thread/read and includeTurns"
            )
        return loaded.to_wire(include_turns=True).turns
    try:
        found = await asyncio.to_thread(index_for(ctx.codex_home).find, thread_id)
    except ValueError:
        found = None  # not an id any file could carry
    if found is None:
        raise InvalidRequestError(
            f"no thread {thread_id} loaded here or recorded under {ctx.codex_home}; check the "
            "id (thread/list shows the recorded ones)"
        )
    path, archived = found
    stored = await asyncio.to_thread(
        history.read_stored_thread, path, archived=archived, with_turns=True
    )
    return stored.turns


def _summary(items: list[ThreadItem]) -> list[ThreadItem]:
    """What a turn shows in a list: the user's message and the model's last answer."""
    answers = [item for item in items if item.type == "agentMessage"]
    last = answers[-1] if answers else None
    return [item for item in items if item.type == "userMessage" or item is last]


def _cursor_error(cursor: Any) -> InvalidParamsError:
    return InvalidParamsError(
        f"`cursor` {cursor!r} is not one this server gave for this thread and direction"
    )


@method("thread/turns/list", ThreadTurnsListParams)
async def thread_turns_list(ctx: ServerContext, p: ThreadTurnsListParams, reply: Reply) -> Any:
    turns = await thread_turns(ctx, p.thread_id)
    try:
        page = anchor_page(
            turns,
            key=lambda turn: turn.id,
            cursor=p.cursor,
            limit=p.limit,
            descending=p.sort_direction != "asc",
        )
    except CursorError:
        raise _cursor_error(p.cursor) from None
    view = p.items_view or "summary"
    shown = [
        msgspec.structs.replace(
            turn,
            items=[]
            if view == "notLoaded"
            else _summary(turn.items)
            if view == "summary"
            else turn.items,
            items_view=view,
        )
        for turn in page.items
    ]
    return ThreadTurnsListResponse(
        data=shown, next_cursor=page.next_cursor, backwards_cursor=page.backwards_cursor
    ).to_wire()


@method("thread/items/list", ThreadItemsListParams)
async def thread_items_list(ctx: ServerContext, p: ThreadItemsListParams, reply: Reply) -> Any:
    turns = await thread_turns(ctx, p.thread_id)
    if p.turn_id:
        turns = [turn for turn in turns if turn.id == p.turn_id]
        if not turns:
            raise InvalidRequestError(f"thread {p.thread_id} has no turn {p.turn_id}")
    cursor: str | None
    if p.cursor is None or isinstance(p.cursor, str):
        cursor = p.cursor
    else:
        if not p.turn_id:
            raise InvalidParamsError("an item anchor as `cursor` needs `turnId`, the item's turn")
        cursor = f"after:{p.cursor.item_id}"
    entries = [ThreadItemEntry(item=item, turn_id=turn.id) for turn in turns for item in turn.items]
    try:
        page = anchor_page(
            entries,
            key=lambda entry: entry.item.id,
            cursor=cursor,
            limit=p.limit,
            descending=p.sort_direction == "desc",
        )
    except CursorError:
        raise _cursor_error(p.cursor) from None
    return ThreadItemsListResponse(
        data=page.items, next_cursor=page.next_cursor, backwards_cursor=page.backwards_cursor
    ).to_wire()


@method("thread/inject_items", ThreadInjectItemsParams)
async def thread_inject_items(ctx: ServerContext, p: ThreadInjectItemsParams, reply: Reply) -> Any:
    thread = ctx.thread(p.thread_id)
    if thread.active is not None:
        raise InvalidRequestError(
            f"thread {p.thread_id} has turn {thread.active.id} in progress; inject items after "
            "turn/completed"
        )
    items: list[ResponseItem] = []
    for index, raw in enumerate(p.items):
        try:
            items.append(parse_item(raw))
        except ItemError as exc:
            raise InvalidParamsError(
                f"`items.{index}` is not a Responses API item ({exc})"
            ) from None
    assert thread.session is not None
    thread.session.inject(items)
    if thread.session.recorder is not None:
        await thread.session.recorder.flush()
    return EmptyResponse().to_wire()


@method("thread/revert", ThreadRevertParams)
async def thread_revert(ctx: ServerContext, p: ThreadRevertParams, reply: Reply) -> None:
    """Drop ``beforeTurnId`` and every later turn from the history the model sees and from the
    record; files those turns changed are left as they are."""
    thread = ctx.thread(p.thread_id)
    if thread.active is not None:
        raise InvalidRequestError(
            f"thread {p.thread_id} has turn {thread.active.id} in progress; wait for "
            "turn/completed or interrupt it before reverting"
        )
    turns = thread.to_wire(include_turns=True).turns
    ids = [turn.id for turn in turns]
    if p.before_turn_id not in ids:
        raise InvalidParamsError(f"`beforeTurnId` {p.before_turn_id} is not a turn of this thread")
    keep = ids.index(p.before_turn_id)
    session = thread.session
    assert session is not None
    try:
        session.revert(len(turns) - keep)
    except ValueError as exc:
        raise InvalidRequestError(f"cannot revert thread {p.thread_id}: {exc}") from None
    if session.recorder is not None:
        await session.recorder.flush()
    thread.past_turns, thread.turns = turns[:keep], []
    last_items = [item for turn in turns[:keep] for item in turn.items]
    response = ThreadRevertResponse(
        thread=thread.to_wire(),
        turns_backwards_cursor=f"from:{ids[keep - 1]}" if keep else None,
        items_backwards_cursor=f"from:{last_items[-1].id}" if last_items else None,
    )
    await reply.result(response.to_wire())
    note = ThreadRevertedNotification(thread_id=p.thread_id)
    await ctx.peer.notify("thread/reverted", note.to_wire())
