"""``fs/*`` and ``fuzzyFileSearch``: the client reads and changes files, confined to the roots
this server works in (its own directory and the cwd of every loaded thread).

Unlike the reference, which reaches the whole host, a path outside those roots (after symlinks
are resolved) is refused with -32600; OS failures answer -32603 naming the path and the cause.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.file_search import search
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.config.edit import write_atomically_bytes
from codex_engine.errors import CodexError
from codex_engine.protocol.app_server import (
    EmptyResponse,
    FsCopyParams,
    FsCreateDirectoryParams,
    FsGetMetadataResponse,
    FsPathParams,
    FsReadDirectoryEntry,
    FsReadDirectoryResponse,
    FsReadFileResponse,
    FsRemoveParams,
    FsWriteFileParams,
    FuzzyFileSearchParams,
    FuzzyFileSearchResponse,
    FuzzyFileSearchResult,
)

#: The largest file ``fs/readFile`` returns (it travels base64-encoded in one JSON line).
MAX_READ_BYTES = 32 * 1024 * 1024

T = TypeVar("T")


def permitted_roots(ctx: ServerContext) -> list[Path]:
    roots = [Path.cwd().resolve()]
    roots += [thread.settings.cwd.resolve() for thread in ctx.threads.values()]
    return list(dict.fromkeys(roots))


def confined(ctx: ServerContext, raw: str, field: str = "path") -> Path:
    """The absolute path a request names, once it is known to lie inside a permitted root."""
    path = Path(raw)
    if not path.is_absolute():
        raise InvalidParamsError(f"`{field}` {raw!r} is not an absolute path")
    # Resolve symlinks so that a link inside a root cannot lead outside it; a path that does
    # not exist yet is judged by its nearest existing parent.
    real = path.resolve()
    roots = permitted_roots(ctx)
    if not any(real == root or real.is_relative_to(root) for root in roots):
        shown = ", ".join(str(root) for root in roots)
        raise InvalidRequestError(
            f"{raw} is outside the directories this server works in ({shown}); start or "
            "resume a thread whose cwd contains it"
        )
    return path


async def _io(what: str, path: Path, work: Callable[[], T]) -> T:
    """Run blocking file work; an OS failure becomes one line naming the path and the cause."""
    try:
        return await asyncio.to_thread(work)
    except OSError as exc:
        raise CodexError(f"cannot {what} {path}: {exc.strerror or exc}") from None


@method("fs/readFile", FsPathParams)
async def fs_read_file(ctx: ServerContext, p: FsPathParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)

    def read() -> bytes:
        if path.exists() and not path.is_file():
            raise InvalidRequestError(f"{path} is not a file")
        if path.stat().st_size > MAX_READ_BYTES:
            raise InvalidRequestError(
                f"{path} is larger than {MAX_READ_BYTES // (1024 * 1024)} MiB; read it in "
                "another way"
            )
        return path.read_bytes()

    data = await _io("read", path, read)
    return FsReadFileResponse(data_base64=base64.b64encode(data).decode("ascii")).to_wire()


@method("fs/writeFile", FsWriteFileParams)
async def fs_write_file(ctx: ServerContext, p: FsWriteFileParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)
    try:
        data = base64.b64decode(p.data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParamsError("`dataBase64` is not valid base64") from None
    if not path.parent.is_dir():
        raise CodexError(
            f"cannot write {path}: its directory does not exist; create it with "
            "fs/createDirectory first"
        )
    await _io("write", path, lambda: write_atomically_bytes(path, data, create_parents=False))
    return EmptyResponse().to_wire()


@method("fs/createDirectory", FsCreateDirectoryParams)
async def fs_create_directory(ctx: ServerContext, p: FsCreateDirectoryParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)
    recursive = p.recursive is not False
    await _io("create", path, lambda: path.mkdir(parents=recursive, exist_ok=recursive))
    return EmptyResponse().to_wire()


@method("fs/getMetadata", FsPathParams)
async def fs_get_metadata(ctx: ServerContext, p: FsPathParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)

    def inspect() -> FsGetMetadataResponse:
        link = path.lstat()
        target = path.stat()
        created = getattr(target, "st_birthtime", None)
        return FsGetMetadataResponse(
            is_directory=stat.S_ISDIR(target.st_mode),
            is_file=stat.S_ISREG(target.st_mode),
            is_symlink=stat.S_ISLNK(link.st_mode),
            created_at_ms=int(created * 1000) if created is not None else 0,
            modified_at_ms=int(target.st_mtime * 1000),
        )

    return (await _io("inspect", path, inspect)).to_wire()


@method("fs/readDirectory", FsPathParams)
async def fs_read_directory(ctx: ServerContext, p: FsPathParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)

    def listing() -> list[FsReadDirectoryEntry]:
        with os.scandir(path) as entries:
            return [
                FsReadDirectoryEntry(
                    file_name=entry.name, is_directory=entry.is_dir(), is_file=entry.is_file()
                )
                for entry in sorted(entries, key=lambda e: e.name)
            ]

    return FsReadDirectoryResponse(entries=await _io("list", path, listing)).to_wire()


@method("fs/remove", FsRemoveParams)
async def fs_remove(ctx: ServerContext, p: FsRemoveParams, reply: Reply) -> Any:
    path = confined(ctx, p.path)
    if path.resolve() in permitted_roots(ctx):
        raise InvalidRequestError(f"{path} is a root this server works in; it is not removed")

    def remove() -> None:
        if not path.exists() and not path.is_symlink():
            if p.force is False:
                raise FileNotFoundError(2, "No such file or directory")
            return
        if path.is_dir() and not path.is_symlink():
            if p.recursive is False:
                path.rmdir()
            else:
                shutil.rmtree(path)
        else:
            path.unlink()

    await _io("remove", path, remove)
    return EmptyResponse().to_wire()


@method("fs/copy", FsCopyParams)
async def fs_copy(ctx: ServerContext, p: FsCopyParams, reply: Reply) -> Any:
    source = confined(ctx, p.source_path, "sourcePath")
    destination = confined(ctx, p.destination_path, "destinationPath")
    if source.is_dir() and not p.recursive:
        raise InvalidParamsError("`recursive` must be true to copy a directory")

    def copy() -> None:
        if source.is_dir():
            shutil.copytree(source, destination, symlinks=True)
        else:
            shutil.copy2(source, destination, follow_symlinks=False)

    await _io("copy", source, copy)
    return EmptyResponse().to_wire()


@method("fuzzyFileSearch", FuzzyFileSearchParams)
async def fuzzy_file_search(ctx: ServerContext, p: FuzzyFileSearchParams, reply: Reply) -> Any:
    roots = [confined(ctx, root, "roots") for root in p.roots]
    files: list[FuzzyFileSearchResult] = []
    for root in roots:
        for score, relative, positions in await asyncio.to_thread(search, p.query, root):
            files.append(
                FuzzyFileSearchResult(
                    root=str(root),
                    path=relative,
                    match_type="file",
                    file_name=relative.rsplit("/", 1)[-1],
                    score=score,
                    indices=positions,
                )
            )
    files.sort(key=lambda match: -match.score)
    return FuzzyFileSearchResponse(files=files).to_wire()
