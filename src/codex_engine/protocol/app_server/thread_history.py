"""A thread's history in pages and edits to it: ``thread/turns/list``, ``thread/items/list``,
``thread/inject_items``, ``thread/metadata/update`` and ``thread/revert``."""

from typing import Annotated, Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params
from codex_engine.protocol.app_server.items import ThreadItem
from codex_engine.protocol.app_server.threads import Thread
from codex_engine.protocol.app_server.turns import Turn

__all__ = [
    "ItemAnchor",
    "ThreadInjectItemsParams",
    "ThreadItemEntry",
    "ThreadItemsListParams",
    "ThreadItemsListResponse",
    "ThreadMetadataUpdateParams",
    "ThreadMetadataUpdateResponse",
    "ThreadRevertParams",
    "ThreadRevertResponse",
    "ThreadRevertedNotification",
    "ThreadTurnsListParams",
    "ThreadTurnsListResponse",
]


class ThreadTurnsListParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    cursor: str | None = None
    limit: Annotated[int, NonNegative] | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    items_view: Literal["notLoaded", "summary", "full"] | None = None


class ThreadTurnsListResponse(_Out, kw_only=True):
    data: list[Turn]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ItemAnchor(_Params, frozen=True, kw_only=True):
    type: Literal["item"]
    item_id: str


class ThreadItemsListParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    cursor: str | ItemAnchor | None = None
    limit: Annotated[int, NonNegative] | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    turn_id: str | None = None


class ThreadItemEntry(_Out, kw_only=True):
    item: ThreadItem
    turn_id: str
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ThreadItemsListResponse(_Out, kw_only=True):
    data: list[ThreadItemEntry]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ThreadInjectItemsParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    #: Raw Responses API items, validated one by one by the handler.
    items: list[Any]


class GitInfoPatch(_Params, frozen=True, kw_only=True):
    """Each field: absent (``UNSET``) leaves it as it is, ``null`` clears it."""

    sha: str | msgspec.UnsetType | None = msgspec.UNSET
    branch: str | msgspec.UnsetType | None = msgspec.UNSET
    origin_url: str | msgspec.UnsetType | None = msgspec.UNSET


class ThreadMetadataUpdateParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    git_info: GitInfoPatch | None = None


class ThreadMetadataUpdateResponse(_Out, kw_only=True):
    thread: Thread


class ThreadRevertParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    before_turn_id: str


class ThreadRevertResponse(_Out, kw_only=True):
    thread: Thread
    items_backwards_cursor: str | None = None
    turns_backwards_cursor: str | None = None


class ThreadRevertedNotification(_Out, kw_only=True):
    thread_id: str
