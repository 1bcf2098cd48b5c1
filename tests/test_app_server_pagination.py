"""The app-server's cursor pagination as a table: entries, sort key, cursor, size -> page."""

from __future__ import annotations

import pytest

from codex_engine.app_server.pagination import CursorError, keyset_page, offset_page

# Entries are (sort key, name); odd names are what a filter drops.
ENTRIES = [("k3", "c"), ("k1", "a"), ("k5", "e"), ("k2", "b"), ("k4", "d")]


def _page(
    *,
    cursor: str | None = None,
    descending: bool = True,
    limit: int = 2,
    drop: frozenset[str] = frozenset(),
) -> tuple[list[str], str | None]:
    page = keyset_page(
        ENTRIES,
        key=lambda entry: entry[0],
        cursor=cursor,
        cursor_prefix="c:",
        descending=descending,
        limit=limit,
        accept=lambda entry: None if entry[1] in drop else entry[1],
    )
    return page.items, page.next_cursor


@pytest.mark.parametrize(
    ("cursor", "descending", "limit", "drop", "items", "next_cursor"),
    [
        # newest first, then the page after the cursor, then the last (short) page
        (None, True, 2, frozenset(), ["e", "d"], "c:k4"),
        ("c:k4", True, 2, frozenset(), ["c", "b"], "c:k2"),
        ("c:k2", True, 2, frozenset(), ["a"], None),
        # oldest first
        (None, False, 2, frozenset(), ["a", "b"], "c:k2"),
        ("c:k2", False, 3, frozenset(), ["c", "d", "e"], None),
        # a page exactly as long as what is left has no next cursor
        ("c:k3", True, 2, frozenset(), ["b", "a"], None),
        # filtered entries do not count against the size, and the cursor is the last shown one
        (None, True, 2, frozenset({"d"}), ["e", "c"], "c:k3"),
        # a next cursor is given when an entry follows, even one the filter would drop
        (None, True, 2, frozenset({"a", "b", "c"}), ["e", "d"], "c:k4"),
        # everything filtered: an empty last page
        (None, True, 2, frozenset("abcde"), [], None),
        # a cursor past the end
        ("c:k0", True, 2, frozenset(), [], None),
        ("c:k9", False, 2, frozenset(), [], None),
    ],
)
def test_keyset_page(
    cursor: str | None,
    descending: bool,
    limit: int,
    drop: frozenset[str],
    items: list[str],
    next_cursor: str | None,
) -> None:
    assert _page(cursor=cursor, descending=descending, limit=limit, drop=drop) == (
        items,
        next_cursor,
    )


def test_keyset_pages_walk_every_entry_once() -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        items, cursor = _page(cursor=cursor, limit=2)
        seen += items
        if cursor is None:
            break
    assert seen == ["e", "d", "c", "b", "a"]


def test_keyset_page_refuses_a_cursor_of_another_sort_order() -> None:
    with pytest.raises(CursorError):
        _page(cursor="u:k3")


def test_keyset_page_reads_only_up_to_the_page_end() -> None:
    accepted: list[str] = []

    def accept(entry: tuple[str, str]) -> str:
        accepted.append(entry[1])
        return entry[1]

    keyset_page(
        ENTRIES,
        key=lambda entry: entry[0],
        cursor=None,
        cursor_prefix="c:",
        descending=True,
        limit=2,
        accept=accept,
    )
    assert accepted == ["e", "d"]


@pytest.mark.parametrize(
    ("cursor", "limit", "items", "next_cursor"),
    [
        (None, None, list("abcde"), None),
        (None, 0, list("abcde"), None),
        (None, 2, ["a", "b"], "2"),
        ("2", 2, ["c", "d"], "4"),
        ("4", 2, ["e"], None),
        ("3", 2, ["d", "e"], None),
        ("9", 2, [], None),
    ],
)
def test_offset_page(
    cursor: str | None, limit: int | None, items: list[str], next_cursor: str | None
) -> None:
    page = offset_page(list("abcde"), cursor=cursor, limit=limit)
    assert (page.items, page.next_cursor) == (items, next_cursor)


def test_offset_page_refuses_a_cursor_it_did_not_give() -> None:
    with pytest.raises(CursorError):
        offset_page(list("abc"), cursor="c:k1", limit=1)
