"""Cursor pagination as pure functions: entries, a sort key, a cursor and a page size -> a page.

:func:`keyset_page` serves ``thread/list`` (the cursor is the sort key of the last entry shown,
so a page stays right while new threads are recorded); :func:`offset_page` serves ``model/list``;
:func:`anchor_page` serves a thread's turns and items (the cursor names one of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

import msgspec

__all__ = ["AnchorPage", "CursorError", "Page", "anchor_page", "keyset_page", "offset_page"]

E = TypeVar("E")
T = TypeVar("T")


class CursorError(ValueError):
    """The cursor is not one this server gave (for this sort order)."""


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    #: Pass back as ``cursor`` for the next page; ``None`` on the last page.
    next_cursor: str | None


def keyset_page(
    entries: Iterable[E],
    *,
    key: Callable[[E], str],
    cursor: str | None,
    cursor_prefix: str,
    descending: bool,
    limit: int,
    accept: Callable[[E], T | None],
) -> Page[T]:
    """Entries sorted by ``key``, after ``cursor``, that ``accept`` keeps (at most ``limit``).

    ``accept`` turns an entry into what the page shows, or ``None`` to skip it (filters); it
    runs only on entries up to the page's end. ``cursor_prefix`` ties a cursor to its sort
    order: a cursor made under another order raises :class:`CursorError`. A next cursor is
    given when an entry follows the page's last one, whether or not ``accept`` would keep it.
    """
    keyed = sorted(
        ((key(entry), entry) for entry in entries), key=lambda pair: pair[0], reverse=descending
    )
    if cursor:
        if not cursor.startswith(cursor_prefix):
            raise CursorError(cursor)
        after = cursor[len(cursor_prefix) :]
        if descending:
            keyed = [(k, e) for k, e in keyed if k < after]
        else:
            keyed = [(k, e) for k, e in keyed if k > after]
    page: list[T] = []
    last_key: str | None = None
    more = False
    for entry_key, entry in keyed:
        if len(page) == limit:
            more = True
            break
        shown = accept(entry)
        if shown is None:
            continue
        page.append(shown)
        last_key = entry_key
    next_cursor = f"{cursor_prefix}{last_key}" if more and last_key is not None else None
    return Page(page, next_cursor)


def offset_page(items: Sequence[T], *, cursor: str | None, limit: int | None) -> Page[T]:
    """``limit`` items (all when it is 0 or ``None``) from the offset ``cursor`` names."""
    try:
        start = int(cursor) if cursor else 0
    except ValueError:
        raise CursorError(cursor) from None
    end = start + limit if limit else len(items)
    return Page(list(items[start:end]), str(end) if end < len(items) else None)


class AnchorPage(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    #: Continue after the last item shown, in the same direction; ``None`` at the end.
    next_cursor: str | None
    #: From the first item shown (included again), in the opposite direction.
    backwards_cursor: str | None


def anchor_page(
    items: Sequence[T],
    *,
    key: Callable[[T], str],
    cursor: str | None,
    limit: int | None,
    descending: bool,
) -> AnchorPage[T]:
    """A page of ``items`` (kept in their order, read backwards when ``descending``) that stays
    right while items are appended: a cursor names an item by ``key``, ``after:`` it (exclusive,
    the next page) or ``from:`` it (inclusive, the way back). Raises :class:`CursorError` for a
    cursor naming no item."""
    ordered = list(reversed(items)) if descending else list(items)
    start = 0
    if cursor:
        mode, _, anchor = cursor.partition(":")
        keys = [key(item) for item in ordered]
        if mode not in ("after", "from") or anchor not in keys:
            raise CursorError(cursor)
        start = keys.index(anchor) + (1 if mode == "after" else 0)
    end = start + limit if limit else len(ordered)
    page = ordered[start:end]
    more = end < len(ordered)
    return AnchorPage(
        page,
        f"after:{key(page[-1])}" if page and more else None,
        f"from:{key(page[0])}" if page else None,
    )
