"""Git context of a workspace, collected with concurrent, time-bounded git commands.

One :class:`GitInfo` feeds session meta, the turn-metadata header and a model-visible block.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from codex_engine.core.xml_escape import escape
from codex_engine.protocol.items import ContentPart, Message

__all__ = [
    "DEFAULT_BUDGET_S",
    "DEFAULT_COMMAND_TIMEOUT_S",
    "GitInfo",
    "collect_git_info",
    "find_repo_root",
    "git_context_message",
    "merge_workspaces",
    "redact_remote_url",
    "render_git_context",
]

DEFAULT_COMMAND_TIMEOUT_S = 1.0
#: Whole-collection budget: git context is a nicety and must not delay a turn noticeably.
DEFAULT_BUDGET_S = 0.4

# Optional locks off so `git status` never takes index.lock under a user's concurrent git
# command; no terminal prompts so a credential helper can never hang us.
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _attr(value: str) -> str:
    # Always double-quoted (quoteattr switches quote style), so the block's shape is stable.
    return '"' + escape(value, {'"': "&quot;"}) + '"'


class GitInfo(msgspec.Struct, frozen=True):
    """What git said about one repository; a field is ``None`` when git did not answer in time."""

    root: Path
    commit_hash: str | None = None
    branch: str | None = None
    #: (name, url) pairs sorted by name; urls have any embedded credentials removed.
    remotes: tuple[tuple[str, str], ...] = ()
    has_changes: bool | None = None

    @property
    def repository_url(self) -> str | None:
        """The ``origin`` remote's url, the one the reference reports as the repository."""
        return dict(self.remotes).get("origin")

    def to_session_meta(self) -> dict[str, str]:
        """The ``git`` object of a rollout's ``session_meta`` (absent fields left out)."""
        out: dict[str, str] = {}
        if self.commit_hash is not None:
            out["commit_hash"] = self.commit_hash
        if self.branch is not None:
            out["branch"] = self.branch
        if self.repository_url is not None:
            out["repository_url"] = self.repository_url
        return out

    def to_turn_metadata_workspaces(self) -> dict[str, dict[str, Any]]:
        """The ``workspaces`` map of the ``x-codex-turn-metadata`` header, keyed by repo root."""
        entry: dict[str, Any] = {}
        if self.remotes:
            entry["associated_remote_urls"] = dict(self.remotes)
        if self.commit_hash is not None:
            entry["latest_git_commit_hash"] = self.commit_hash
        if self.has_changes is not None:
            entry["has_changes"] = self.has_changes
        return {str(self.root): entry}

    def to_xml(self, indent: str = "  ") -> str:
        """One ``<repository>`` element of the model-visible git block."""
        inner = indent * 2
        lines = [f"{indent}<repository root={_attr(str(self.root))}>"]
        if self.branch is not None:
            lines.append(f"{inner}<branch>{escape(self.branch)}</branch>")
        if self.commit_hash is not None:
            lines.append(f"{inner}<latest_commit>{escape(self.commit_hash)}</latest_commit>")
        if self.remotes:
            lines.append(f"{inner}<remotes>")
            lines.extend(
                f"{inner}{indent}<remote name={_attr(name)}>{escape(url)}</remote>"
                for name, url in self.remotes
            )
            lines.append(f"{inner}</remotes>")
        if self.has_changes is not None:
            flag = "true" if self.has_changes else "false"
            lines.append(f"{inner}<has_uncommitted_changes>{flag}</has_uncommitted_changes>")
        lines.append(f"{indent}</repository>")
        return "\n".join(lines)


def render_git_context(infos: Sequence[GitInfo]) -> str:
    """The ``<git_context>`` block; always the multi-root shape, even for a single repository."""
    body = "\n".join(info.to_xml() for info in infos)
    return f"<git_context>\n{body}\n</git_context>" if body else "<git_context>\n</git_context>"


def git_context_message(infos: Sequence[GitInfo]) -> Message | None:
    """The git block as a user message for the session prefix; ``None`` with no repository."""
    if not infos:
        return None
    text = render_git_context(infos)
    return Message(role="user", content=[ContentPart(type="input_text", text=text)])


def find_repo_root(cwd: Path) -> Path | None:
    """The nearest directory at or above ``cwd`` holding a ``.git`` file (worktree) or dir."""
    try:
        start = cwd.resolve()
    except OSError:
        return None
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def redact_remote_url(url: str) -> str:
    """The url without credentials: a token in ``https://TOKEN@host/...`` must not leak.

    For http(s) the whole user part goes (a username there is often a token); for other
    schemes only a password does. scp-like ``git@host:path`` has no password and is kept.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if parts.scheme.lower() in {"http", "https", "ftp", "ftps"}:
        netloc = hostport
    else:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostport}" if user else hostport
    return urlunsplit(parts._replace(netloc=netloc))


class _GitMissing(Exception):
    """The git executable could not be started."""


async def _run_git(git: str, cwd: Path, args: Sequence[str], timeout_s: float) -> str | None:
    """stdout of one git command, or ``None`` on failure or timeout; the process never outlives
    this call (its whole process group is killed on timeout or cancellation)."""
    try:
        process = await asyncio.create_subprocess_exec(
            git,
            *args,
            cwd=str(cwd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **_GIT_ENV},
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise _GitMissing(str(exc)) from None
    except OSError:
        return None
    try:
        async with asyncio.timeout(timeout_s):
            stdout, _ = await process.communicate()
    except TimeoutError:
        await _kill_and_reap(process)
        return None
    except asyncio.CancelledError:
        # The collection budget ran out (or our caller gave up): reap before leaving.
        await _kill_and_reap(process)
        raise
    if process.returncode != 0:
        return None
    return stdout.decode("utf-8", errors="replace")


async def _kill_and_reap(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    # Shielded so a second cancellation cannot leave a zombie or a live git behind.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(process.wait())


def _parse_remotes(raw: str) -> tuple[tuple[str, str], ...]:
    # `git config -z` prints "key\nvalue\0" records, which survives spaces and dots in names.
    remotes: dict[str, str] = {}
    for record in raw.split("\0"):
        key, sep, value = record.partition("\n")
        if not sep or not key.startswith("remote.") or not key.endswith(".url"):
            continue
        name = key[len("remote.") : -len(".url")]
        # The first url of a remote is the one git fetches from.
        remotes.setdefault(name, redact_remote_url(value.strip()))
    return tuple(sorted(remotes.items()))


async def collect_git_info(
    cwd: Path,
    *,
    budget_s: float | None = DEFAULT_BUDGET_S,
    command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
    git: str = "git",
) -> GitInfo | None:
    """Git context of the repository containing ``cwd``; ``None`` outside a repository or
    without git. Never raises for git trouble: what does not answer within ``budget_s`` (or its
    own ``command_timeout_s``) is left out, and no git process is left running."""
    root = find_repo_root(cwd)
    if root is None:
        return None
    commands: dict[str, list[str]] = {
        "commit": ["rev-parse", "HEAD"],
        "branch": ["rev-parse", "--abbrev-ref", "HEAD"],
        "remotes": ["config", "-z", "--get-regexp", r"^remote\..*\.url$"],
        "status": ["status", "--porcelain"],
    }
    tasks = {
        name: asyncio.create_task(_run_git(git, root, args, command_timeout_s))
        for name, args in commands.items()
    }
    try:
        _done, pending = await asyncio.wait(tasks.values(), timeout=budget_s)
    finally:
        # Also reached when our caller cancels us: every git process is reaped before we leave.
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    results: dict[str, str | None] = {}
    for name, task in tasks.items():
        if task in pending or task.cancelled():
            results[name] = None
            continue
        error = task.exception()
        if isinstance(error, _GitMissing):
            return None
        results[name] = None if error is not None else task.result()
    commit = (results["commit"] or "").strip() or None
    branch = (results["branch"] or "").strip() or None
    status = results["status"]
    return GitInfo(
        root=root,
        commit_hash=commit,
        # A detached HEAD reports "HEAD", which is not a branch name.
        branch=None if branch == "HEAD" else branch,
        remotes=_parse_remotes(results["remotes"] or ""),
        has_changes=None if status is None else bool(status.strip()),
    )


def merge_workspaces(infos: Sequence[GitInfo]) -> Mapping[str, dict[str, Any]]:
    """The ``workspaces`` map for several roots (a session with one root passes one info)."""
    out: dict[str, dict[str, Any]] = {}
    for info in infos:
        out.update(info.to_turn_metadata_workspaces())
    return out
