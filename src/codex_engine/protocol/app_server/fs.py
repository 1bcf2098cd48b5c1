"""File access for clients: ``fs/readFile``, ``fs/writeFile``, ``fs/createDirectory``,
``fs/getMetadata``, ``fs/readDirectory``, ``fs/remove``, ``fs/copy``, ``fs/watch`` (with
``fs/changed``), ``fs/unwatch`` and ``fuzzyFileSearch``."""

from typing import Literal

import msgspec

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "FsChangedNotification",
    "FsCopyParams",
    "FsCreateDirectoryParams",
    "FsGetMetadataResponse",
    "FsPathParams",
    "FsReadDirectoryEntry",
    "FsReadDirectoryResponse",
    "FsReadFileResponse",
    "FsRemoveParams",
    "FsUnwatchParams",
    "FsWatchParams",
    "FsWatchResponse",
    "FsWriteFileParams",
    "FuzzyFileSearchParams",
    "FuzzyFileSearchResponse",
    "FuzzyFileSearchResult",
]


class FsPathParams(_Params, frozen=True, kw_only=True):
    """``fs/readFile``, ``fs/getMetadata`` and ``fs/readDirectory``: one absolute path."""

    path: str


class FsWriteFileParams(_Params, frozen=True, kw_only=True):
    path: str
    data_base64: str


class FsCreateDirectoryParams(_Params, frozen=True, kw_only=True):
    path: str
    #: Create missing parents too (the default).
    recursive: bool | None = None


class FsRemoveParams(_Params, frozen=True, kw_only=True):
    path: str
    #: Remove a directory with what it holds (the default).
    recursive: bool | None = None
    #: A missing path is not an error (the default).
    force: bool | None = None


class FsCopyParams(_Params, frozen=True, kw_only=True):
    source_path: str
    destination_path: str
    #: Required to copy a directory.
    recursive: bool = False


class FsReadFileResponse(_Out, kw_only=True):
    data_base64: str


class FsGetMetadataResponse(_Out, kw_only=True):
    is_directory: bool
    is_file: bool
    is_symlink: bool
    created_at_ms: int
    modified_at_ms: int


class FsReadDirectoryEntry(_Out, kw_only=True):
    file_name: str
    is_directory: bool
    is_file: bool


class FsReadDirectoryResponse(_Out, kw_only=True):
    entries: list[FsReadDirectoryEntry]


class FuzzyFileSearchParams(_Params, frozen=True, kw_only=True):
    query: str
    roots: list[str]
    #: Accepted; each search runs to completion (they are bounded and fast).
    cancellation_token: str | None = None


class FuzzyFileSearchResult(msgspec.Struct, frozen=True, kw_only=True):
    """One match; snake_case on the wire, as the reference sends it."""

    root: str
    path: str
    match_type: Literal["file", "directory"]
    file_name: str
    score: int
    #: Positions of the matched characters in ``path``.
    indices: list[int] | None = None


class FuzzyFileSearchResponse(_Out, kw_only=True):
    files: list[FuzzyFileSearchResult]


class FsWatchParams(_Params, frozen=True, kw_only=True):
    path: str
    #: Chosen by the client, unique on its connection; ``fs/changed`` and ``fs/unwatch`` use it.
    watch_id: str


class FsWatchResponse(_Out, kw_only=True):
    path: str


class FsUnwatchParams(_Params, frozen=True, kw_only=True):
    watch_id: str


class FsChangedNotification(_Out, kw_only=True):
    watch_id: str
    changed_paths: list[str]
