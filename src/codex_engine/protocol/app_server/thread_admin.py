"""Which threads a server holds and letting go of them: ``thread/loaded/list``,
``thread/unsubscribe``, ``thread/delete`` and the ``thread/closed`` and ``thread/deleted``
notifications."""

from typing import Annotated, Literal

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params

__all__ = [
    "ThreadClosedNotification",
    "ThreadDeletedNotification",
    "ThreadLoadedListParams",
    "ThreadLoadedListResponse",
    "ThreadUnsubscribeResponse",
]


class ThreadLoadedListParams(_Params, frozen=True, kw_only=True):
    cursor: str | None = None
    limit: Annotated[int, NonNegative] | None = None


class ThreadLoadedListResponse(_Out, kw_only=True):
    #: Ids of the threads loaded in this server.
    data: list[str]
    next_cursor: str | None = None


class ThreadUnsubscribeResponse(_Out, kw_only=True):
    status: Literal["notLoaded", "notSubscribed", "unsubscribed"]


class ThreadDeletedNotification(_Out, kw_only=True):
    thread_id: str


class ThreadClosedNotification(_Out, kw_only=True):
    """A loaded thread was let go (unloaded): its record stays, resume loads it again."""

    thread_id: str
