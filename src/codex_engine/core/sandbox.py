"""OS sandboxing of the model's commands on Linux with bubblewrap (``bwrap``).

:func:`detect_sandbox` checks bwrap works here; :func:`wrap_command` confines one command.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_engine.config.loader import SandboxMode

__all__ = [
    "SandboxMode",
    "SandboxSupport",
    "detect_sandbox",
    "sandbox_writable_roots",
    "wrap_command",
]

_PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SandboxSupport:
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
      build leaves for a later command still exist), whose ``.git`` stays read-only when
      ``protect_git`` (history is changed by the user, not by a sandboxed command).

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
            for root in roots:
                git_dir = root / ".git"
                if git_dir.exists():
                    args += ["--ro-bind", str(git_dir), str(git_dir)]
    args += ["--chdir", str(cwd.resolve()), "--", *argv]
    return args
