"""A thread's history in pages and edits to it: ``thread/turns/list``, ``thread/items/list``,
``thread/inject_items``, ``thread/metadata/update`` and ``thread/revert``."""

from typing import Any, Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out, _Params
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


class ThreadTurnsListParams(_Params):
    thread_id: str
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    sort_direction: Literal["asc", "desc"] | None = None
    items_view: Literal["notLoaded", "summary", "full"] | None = None


class ThreadTurnsListResponse(_Out):
    data: list[Turn]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ItemAnchor(_Params):
    type: Literal["item"]
    item_id: str


class ThreadItemsListParams(_Params):
    thread_id: str
    cursor: str | ItemAnchor | None = None
    limit: int | None = Field(default=None, ge=0)
    sort_direction: Literal["asc", "desc"] | None = None
    turn_id: str | None = None


class ThreadItemEntry(_Out):
    item: ThreadItem
    turn_id: str
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ThreadItemsListResponse(_Out):
    data: list[ThreadItemEntry]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ThreadInjectItemsParams(_Params):
    thread_id: str
    #: Raw Responses API items, validated one by one by the handler.
    items: list[Any]


class GitInfoPatch(_Params):
    sha: str | None = None
    branch: str | None = None
    origin_url: str | None = None


class ThreadMetadataUpdateParams(_Params):
    thread_id: str
    git_info: GitInfoPatch | None = None


class ThreadMetadataUpdateResponse(_Out):
    thread: Thread


class ThreadRevertParams(_Params):
    thread_id: str
    before_turn_id: str


class ThreadRevertResponse(_Out):
    thread: Thread
    items_backwards_cursor: str | None = None
    turns_backwards_cursor: str | None = None


class ThreadRevertedNotification(_Out):
    thread_id: str
