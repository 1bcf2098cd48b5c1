"""``fuzzyFileSearch``: the files under some roots whose relative path holds the query's
characters in order, best matches first. Blocking (walks directories): run in a thread."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MAX_RESULTS", "MAX_SCANNED", "Match", "search"]

#: At most this many matches are returned, and this many files looked at per search.
MAX_RESULTS = 50
MAX_SCANNED = 50_000
#: Directories nobody searches for files in.
_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv"})

Match = tuple[int, str, list[int]]


def _positions(query: str, path: str) -> list[int] | None:
    """Where the query's characters sit in ``path`` (case-insensitive), matched from the end
    so that they cluster in the file name; None when they are not all there in order."""
    lowered = path.lower()
    positions: list[int] = []
    at = len(lowered)
    for char in reversed(query.lower()):
        at = lowered.rfind(char, 0, at)
        if at < 0:
            return None
        positions.append(at)
    positions.reverse()
    return positions


def _score(path: str, positions: list[int]) -> int:
    """Higher is better: adjacent matches, matches in the file name, short paths."""
    name_start = path.rfind("/") + 1
    adjacent = sum(1 for a, b in itertools.pairwise(positions) if b == a + 1)
    in_name = sum(1 for p in positions if p >= name_start)
    starts_word = sum(1 for p in positions if p == 0 or path[p - 1] in "/._- ")
    gaps = positions[-1] - positions[0] + 1 - len(positions)
    return max(0, 100 + 8 * adjacent + 4 * in_name + 6 * starts_word - gaps - len(path) // 4)


def _files(root: Path) -> Iterator[str]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        base = Path(directory).relative_to(root)
        for name in sorted(files):
            yield (base / name).as_posix()


def search(query: str, root: Path) -> list[Match]:
    """``(score, relative path, positions)`` of the best matches under ``root``."""
    if not query or not root.is_dir():
        return []
    found: list[Match] = []
    for scanned, relative in enumerate(_files(root)):
        if scanned >= MAX_SCANNED:
            break
        positions = _positions(query, relative)
        if positions is not None:
            found.append((_score(relative, positions), relative, positions))
    found.sort(key=lambda match: (-match[0], match[1]))
    return found[:MAX_RESULTS]
