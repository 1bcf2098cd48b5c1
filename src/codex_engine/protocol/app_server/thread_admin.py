"""Which threads a server holds and letting go of them: ``thread/loaded/list``,
``thread/unsubscribe``, ``thread/delete`` and the ``thread/closed`` and ``thread/deleted``
notifications."""

from typing import Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "ThreadClosedNotification",
    "ThreadDeletedNotification",
    "ThreadLoadedListParams",
    "ThreadLoadedListResponse",
    "ThreadUnsubscribeResponse",
]


class ThreadLoadedListParams(_Params):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)


class ThreadLoadedListResponse(_Out):
    #: Ids of the threads loaded in this server.
    data: list[str]
    next_cursor: str | None = None


class ThreadUnsubscribeResponse(_Out):
    status: Literal["notLoaded", "notSubscribed", "unsubscribed"]


class ThreadDeletedNotification(_Out):
    thread_id: str


class ThreadClosedNotification(_Out):
    """A loaded thread was let go (unloaded): its record stays, resume loads it again."""

    thread_id: str
