"""The ``x-codex-turn-metadata`` value, built fresh for each turn and for the startup preconnect.

Git is asked again every time (SPEC §11.5), so a commit or an edit between turns shows up in the
next turn's header; the whole git part is bounded by one timeout and left out when git is slow.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from codex_engine.core.git_info import DEFAULT_BUDGET_S, GitInfo, collect_git_info

__all__ = ["TURN_METADATA_TIMEOUT_S", "build_turn_metadata"]

log = logging.getLogger(__name__)

#: The one bound on git for a turn's metadata; a slower git costs the header its git part only.
TURN_METADATA_TIMEOUT_S = DEFAULT_BUDGET_S


async def build_turn_metadata(
    cwd: Path,
    *,
    sandbox: str,
    turn_id: str | None = None,
    timeout_s: float = TURN_METADATA_TIMEOUT_S,
    git: GitInfo | None = None,
) -> dict[str, Any]:
    """``{"turn_id"?, "workspaces"?, "sandbox"}`` for a request made now from ``cwd``.

    Never raises for git trouble and never waits longer than ``timeout_s`` for git. ``git``: the
    repository's state collected a moment ago (a session's first turn reuses what its start
    collected), so git is not asked twice in a row.
    """
    metadata: dict[str, Any] = {}
    if turn_id is not None:
        metadata["turn_id"] = turn_id
    started = time.monotonic()
    info = git or await collect_git_info(cwd, budget_s=timeout_s, command_timeout_s=timeout_s)
    if info is not None:
        workspaces = info.to_turn_metadata_workspaces()
        if any(workspaces.values()):
            metadata["workspaces"] = workspaces
        elif time.monotonic() - started >= timeout_s:
            log.warning(
                "timed out after %dms while building turn metadata header", timeout_s * 1000
            )
    metadata["sandbox"] = sandbox
    return metadata
