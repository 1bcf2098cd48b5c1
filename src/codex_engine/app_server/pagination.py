"""Cursor pagination as pure functions: entries, a sort key, a cursor and a page size -> a page.

:func:`keyset_page` serves ``thread/list`` (the cursor is the sort key of the last entry shown,
so a page stays right while new threads are recorded); :func:`offset_page` serves ``model/list``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["CursorError", "Page", "keyset_page", "offset_page"]

E = TypeVar("E")
T = TypeVar("T")


class CursorError(ValueError):
    """The cursor is not one this server gave (for this sort order)."""


@dataclass(frozen=True)
class Page(Generic[T]):
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
