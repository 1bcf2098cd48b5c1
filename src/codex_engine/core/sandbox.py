"""OS sandboxing of the model's commands on Linux with bubblewrap (``bwrap``).

:func:`detect_sandbox` checks bwrap works here; :func:`wrap_command` confines one command.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from codex_engine.config.loader import SandboxMode

__all__ = [
    "SandboxMode",
    "SandboxSupport",
    "detect_sandbox",
    "git_metadata_under",
    "sandbox_writable_roots",
    "wrap_command",
]

_PROBE_TIMEOUT_S = 5.0


class SandboxSupport(msgspec.Struct, frozen=True):
    """Whether commands can be confined here; ``reason`` says why not when they cannot."""

    available: bool
    bwrap: str | None = None
    reason: str | None = None


_cached: SandboxSupport | None = None


async def _probe(bwrap: str) -> str | None:
    """``None`` if a trivial sandboxed command runs, else a one-line reason."""
    argv = [bwrap, *_base_args(network=False), "--", "true"]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return f"{bwrap} could not be started: {exc}"
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_S):
            _, stderr = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return f"{bwrap} did not finish a trivial command within {_PROBE_TIMEOUT_S:g}s"
    if process.returncode != 0:
        detail = stderr.decode("utf-8", errors="replace").strip().splitlines()
        why = detail[-1] if detail else f"exit code {process.returncode}"
        # Typical here: containers that forbid user namespaces or mounting /proc.
        return f"bubblewrap cannot create a sandbox in this environment ({why})"
    return None


async def detect_sandbox(*, refresh: bool = False) -> SandboxSupport:
    """Whether ``bwrap`` is on PATH and can actually sandbox a command here (cached)."""
    global _cached
    if _cached is not None and not refresh:
        return _cached
    if not sys.platform.startswith("linux"):
        result = SandboxSupport(False, reason="the bubblewrap sandbox is only used on Linux")
    elif (bwrap := shutil.which("bwrap")) is None:
        result = SandboxSupport(
            False, reason="bubblewrap (`bwrap`) is not installed; install the bubblewrap package"
        )
    else:
        reason = await _probe(bwrap)
        result = SandboxSupport(reason is None, bwrap=bwrap, reason=reason)
    _cached = result
    return result


def _base_args(*, network: bool) -> list[str]:
    args = [
        # A new session keeps the command from reaching our terminal (TIOCSTI injection).
        "--new-session",
        "--die-with-parent",
        # Its own pid namespace: /proc shows only the sandbox, and all of it dies together.
        "--unshare-pid",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    if not network:
        args.append("--unshare-net")
    return args


def sandbox_writable_roots(cwd: Path, extra: Sequence[Path] = ()) -> list[Path]:
    """The writable roots of ``workspace-write``: the workspace, ``/tmp`` and any extra roots."""
    roots: list[Path] = []
    for root in (cwd, Path("/tmp"), *extra):
        resolved = root.resolve()
        if resolved not in roots:
            roots.append(resolved)
    return roots


def _depth(path: Path) -> tuple[int, str]:
    return (len(path.parts), str(path))


#: How many directories the search for nested repositories reads under each writable root. The
#: walk runs before every sandboxed command, so it is bounded (about 20-150 µs a directory, so
#: at most a few tenths of a second on a cold cache); it goes breadth first, so the repositories
#: nearest the root are found first, and a ``.git`` deeper in a tree larger than this is not
#: protected. A ``.git`` directly at a root is always protected.
GIT_SEARCH_MAX_DIRS = 2048
_GITFILE_MAX_BYTES = 4096


def _gitfile_target(gitfile: Path) -> Path | None:
    """The git directory a ``.git`` file (worktree, submodule) names with ``gitdir: PATH``."""
    try:
        with gitfile.open("rb") as handle:
            head = handle.read(_GITFILE_MAX_BYTES)
    except OSError:
        return None
    first = head.decode("utf-8", errors="replace").splitlines()[:1]
    if not first or not first[0].startswith("gitdir:"):
        return None
    target = Path(first[0].removeprefix("gitdir:").strip())
    return (gitfile.parent / target).resolve() if target.parts else None


def git_metadata_under(roots: Sequence[Path], *, max_dirs: int = GIT_SEARCH_MAX_DIRS) -> list[Path]:
    """Every repository's ``.git`` under ``roots``: directories and gitfiles, parents first.

    A gitfile's target directory is included too when it lies under one of the roots. The walk
    never enters a ``.git`` nor follows a symlinked directory, and reads at most ``max_dirs``
    directories per root (see :data:`GIT_SEARCH_MAX_DIRS`).
    """
    found: set[Path] = set()
    for root in roots:
        if os.path.lexists(root / ".git"):
            found.add(root / ".git")
        pending = collections.deque([root])
        read = 0
        while pending and read < max_dirs:
            directory = pending.popleft()
            read += 1
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        if entry.name == ".git":
                            found.add(Path(entry.path))
                        elif entry.is_dir(follow_symlinks=False):
                            pending.append(Path(entry.path))
            except OSError:
                continue  # unreadable or vanished: nothing to protect that we could see
    protected: set[Path] = set()
    for git in found:
        if not git.exists():
            continue  # a dangling symlink: bwrap cannot bind it
        protected.add(git)
        if git.is_file() and not git.is_symlink():
            target = _gitfile_target(git)
            inside = target is not None and any(target.is_relative_to(r) for r in roots)
            if target is not None and inside and target.is_dir():
                protected.add(target)
    return sorted(protected, key=_depth)


def wrap_command(
    argv: Sequence[str],
    *,
    mode: SandboxMode,
    cwd: Path,
    writable_roots: Sequence[Path],
    network: bool,
    bwrap: str = "bwrap",
    protect_git: bool = True,
) -> list[str]:
    """The command as it must be run under ``mode``.

    - ``danger-full-access``: unchanged.
    - ``read-only``: the whole filesystem read-only, nothing writable (not even ``/tmp``).
    - ``workspace-write``: read-only except ``writable_roots`` (see
      :func:`sandbox_writable_roots`: the workspace and the real ``/tmp``, so temp files a
      build leaves for a later command still exist). When ``protect_git``, the ``.git`` of
      every repository under them stays read-only, nested ones included (history is changed
      by the user, not by a sandboxed command); see :func:`git_metadata_under` for the bound.

    Network is cut off (a fresh network namespace with only a down loopback) unless
    ``network`` is true. Roots that do not exist are skipped, since bwrap cannot bind them.
    """
    if mode == "danger-full-access":
        return list(argv)
    if mode not in ("read-only", "workspace-write"):
        raise ValueError(f"unknown sandbox mode {mode!r}")
    args = [bwrap, *_base_args(network=network)]
    if mode == "workspace-write":
        # Parents before children, and every .git after every writable bind: a later mount
        # covers an earlier one, so a nested root or a protected .git must come later.
        roots = sorted({r.resolve() for r in writable_roots if r.exists()}, key=_depth)
        for root in roots:
            args += ["--bind", str(root), str(root)]
        if protect_git:
            # `-try`: a repository that vanished since the walk (a shared /tmp churns) is no
            # reason to fail the command.
            for git in git_metadata_under(roots):
                args += ["--ro-bind-try", str(git), str(git)]
    args += ["--chdir", str(cwd.resolve()), "--", *argv]
    return args
