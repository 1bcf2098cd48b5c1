"""Advisory whole-file locks between processes (``flock``), used by the auth refresh and by the
rollout writer. The OS drops a lock when its descriptor closes or its process dies; a descriptor
opened by Python is close-on-exec, so a command the model starts never inherits one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["HAVE_FLOCK", "holder_pid", "lock", "try_lock"]

#: Where ``flock`` does not exist (Windows) the functions below are no-ops that always succeed.
HAVE_FLOCK = sys.platform != "win32"

_PROC_LOCKS = Path("/proc/locks")


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another open file holds one.

    Locks belong to the open file: another ``open`` of the same file, even in this process,
    conflicts, while duplicates of ``fd`` share it.
    """
    if not HAVE_FLOCK:  # pragma: no cover - no flock there
        return True
    import fcntl

    # Close-on-exec in case the caller opened ``fd`` some other way than ``os.open``.
    os.set_inheritable(fd, False)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock(fd: int) -> None:
    """Take an exclusive lock on ``fd``, waiting for the holder to let go. Blocking."""
    if not HAVE_FLOCK:  # pragma: no cover - no flock there
        return
    import fcntl

    os.set_inheritable(fd, False)
    fcntl.flock(fd, fcntl.LOCK_EX)


def holder_pid(path: Path) -> int | None:
    """The id of the process holding a ``flock`` on ``path``, from ``/proc/locks`` (Linux).

    None when it cannot be told: no ``/proc``, the holder is in another pid namespace, or
    the lock went away meanwhile.
    """
    try:
        st = os.stat(path)
        text = _PROC_LOCKS.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
    same_inode: list[tuple[str, int]] = []
    for line in text.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"; waiters carry a "->" and are skipped.
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        dev_major, _, rest = fields[5].partition(":")
        dev_minor, _, inode = rest.partition(":")
        if not fields[4].isdigit() or inode != str(st.st_ino):
            continue
        same_inode.append((f"{dev_major}:{dev_minor}", int(fields[4])))
    exact = [pid for dev, pid in same_inode if dev == device]
    # Some filesystems (overlayfs) report another device number to stat than to /proc/locks.
    candidates = exact or ([pid for _dev, pid in same_inode] if len(same_inode) == 1 else [])
    pid = candidates[0] if candidates else 0
    return pid if pid > 0 else None
