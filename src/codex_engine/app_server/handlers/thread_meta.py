"""``thread/metadata/update``: patch a thread's stored Git metadata (commit, branch, origin).

The patch is recorded in the rollout as an ``event_msg`` (:data:`GIT_INFO_EVENT`) holding the
whole resulting ``gitInfo``; :func:`recorded_git_info` reads the latest back (read, resume).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from codex_engine.app_server import history
from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import InvalidParamsError, InvalidRequestError, method
from codex_engine.core.rollout import append_record, index_for, read_rollout
from codex_engine.errors import CodexError
from codex_engine.protocol.app_server.thread_history import (
    GitInfoPatch,
    ThreadMetadataUpdateParams,
    ThreadMetadataUpdateResponse,
)

__all__ = ["GIT_INFO_EVENT", "recorded_git_info"]

GIT_INFO_EVENT = "thread_git_info_updated"
_FIELDS = ("sha", "branch", "originUrl")


def recorded_git_info(path: Path) -> dict[str, Any] | None:
    """The ``gitInfo`` the latest metadata update in ``path`` left, or ``None`` when no update
    was recorded (the session_meta's stands). Blocking; a file it cannot read has none."""
    try:
        records = read_rollout(path).records
    except CodexError:
        return None
    found: dict[str, Any] | None = None
    for record in records:
        payload = record.payload
        if record.kind == "event_msg" and payload.get("type") == GIT_INFO_EVENT:
            git = payload.get("git")
            found = {k: git.get(k) for k in _FIELDS} if isinstance(git, dict) else None
    return found


def _patched(current: dict[str, Any] | None, p: ThreadMetadataUpdateParams) -> dict[str, Any]:
    result = {k: (current or {}).get(k) for k in _FIELDS}
    if p.git_info is None:
        return result
    for field, wire in (("sha", "sha"), ("branch", "branch"), ("origin_url", "originUrl")):
        value = getattr(p.git_info, field)
        if value is msgspec.UNSET:
            continue
        if value is not None and not value.strip():
            raise InvalidParamsError(f"`gitInfo.{wire}` must not be empty; send null to clear it")
        result[wire] = value
    return result


@method("thread/metadata/update", ThreadMetadataUpdateParams)
async def thread_metadata_update(
    ctx: ServerContext, p: ThreadMetadataUpdateParams, reply: Reply
) -> Any:
    if p.git_info is None or p.git_info == GitInfoPatch():
        raise InvalidParamsError(
            "thread/metadata/update needs `gitInfo` with at least one of sha, branch, originUrl"
        )
    loaded = ctx.threads.get(p.thread_id)
    if loaded is not None:
        git = _patched(loaded.git_info(), p)
        recorder = loaded.session.recorder if loaded.session is not None else None
        if recorder is not None:
            recorder.record("event_msg", {"type": GIT_INFO_EVENT, "git": git})
            await recorder.flush()
        loaded.git_override = git
        thread = loaded.to_wire()
    else:
        try:
            found = await asyncio.to_thread(index_for(ctx.codex_home).find, p.thread_id)
        except ValueError:
            found = None
        if found is None:
            raise InvalidRequestError(
                f"no thread {p.thread_id} loaded here or recorded under {ctx.codex_home}; check "
                "the id (thread/list shows the recorded ones)"
            )
        path, archived = found
        stored = await asyncio.to_thread(
            history.read_stored_thread, path, archived=archived, with_turns=False
        )
        current = await asyncio.to_thread(recorded_git_info, path)
        git = _patched(current or history.git_info_wire(stored.meta.git), p)
        try:
            payload = {"type": GIT_INFO_EVENT, "git": git}
            await asyncio.to_thread(append_record, path, "event_msg", payload)
        except OSError as exc:
            raise CodexError(f"cannot write {path}: {exc.strerror}") from None
        thread = history.to_wire(stored, include_turns=False)
        thread.git_info = git if any(v is not None for v in git.values()) else None
    return ThreadMetadataUpdateResponse(thread=thread).to_wire()
