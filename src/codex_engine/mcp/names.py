"""The names the model calls MCP tools by: `mcp__SERVER__TOOL`, sanitised, unique, at most 64 long.

Pure. As the reference does: each disallowed character becomes `_`; when two tools end up with the
same name each gets `_` and 12 hex digits of a SHA-1 of its raw identity (server and tool as
configured and listed); a name over 64 characters keeps its start and ends in such a hash. The
order of the input does not matter: the same tools always get the same names.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

import msgspec

__all__ = ["MAX_TOOL_NAME_LENGTH", "QualifiedName", "qualify", "sanitize"]

MAX_TOOL_NAME_LENGTH = 64
_HASH_LEN = 12
_DISALLOWED = re.compile(r"[^A-Za-z0-9_]")


class QualifiedName(msgspec.Struct, frozen=True):
    """One tool of one server and the name the model sees."""

    server: str
    tool: str
    name: str


def sanitize(value: str) -> str:
    """Each character outside `[A-Za-z0-9_]` replaced by `_` (the Responses API's name rule)."""
    return _DISALLOWED.sub("_", value) or "_"


def _suffix(identity: str) -> str:
    return "_" + hashlib.sha1(identity.encode()).hexdigest()[:_HASH_LEN]


def _identity(server: str, tool: str) -> str:
    # The reference's raw identity: server, namespace (the server again), connector (none),
    # callable name and listed name, NUL-separated; the hashes below match its names.
    return f"{server}\0{server}\0\0{tool}\0{tool}"


def _display(namespace: str, tool: str) -> str:
    return f"{namespace}__{tool}"


def _fit(namespace: str, tool: str, identity: str) -> tuple[str, str]:
    """Shorten to the length limit, ending in a hash of ``identity``."""
    suffix = _suffix(identity)
    room = MAX_TOOL_NAME_LENGTH - len(namespace) - 2
    if room >= len(suffix):
        return namespace, tool[: room - len(suffix)] + suffix
    return namespace[: MAX_TOOL_NAME_LENGTH - len(suffix) - 2], suffix.lstrip("_")


def qualify(tools: Iterable[tuple[str, str]]) -> list[QualifiedName]:
    """Model-visible names for ``(server, tool)`` pairs (duplicates are dropped), sorted by name."""
    candidates: dict[str, tuple[str, str, str, str]] = {}
    for server, tool in tools:
        identity = _identity(server, tool)
        candidates.setdefault(identity, (server, tool, "mcp__" + sanitize(server), sanitize(tool)))
    # Two servers whose names sanitise alike get a hash on their namespace.
    by_namespace: dict[str, set[str]] = defaultdict(set)
    for server, _tool, namespace, _name in candidates.values():
        by_namespace[namespace].add(server)
    # Two tools whose (namespace, name) collide get a hash on their name.
    renamed: dict[str, tuple[str, str, str, str]] = {}
    for identity, (server, tool, namespace, name) in candidates.items():
        if len(by_namespace[namespace]) > 1:
            namespace += _suffix(f"{server}\0{server}\0")
        renamed[identity] = (server, tool, namespace, name)
    by_pair: dict[tuple[str, str], set[str]] = defaultdict(set)
    for identity, (_s, _t, namespace, name) in renamed.items():
        by_pair[(namespace, name)].add(identity)
    used: set[str] = set()
    result: list[QualifiedName] = []
    for identity in sorted(renamed):
        server, tool, namespace, name = renamed[identity]
        if len(by_pair[(namespace, name)]) > 1:
            name += _suffix(identity)
        full = _display(namespace, name)
        attempt = 0
        while len(full) > MAX_TOOL_NAME_LENGTH or full in used:
            salted = identity if attempt == 0 else f"{identity}\0{attempt}"
            full = _display(*_fit(namespace, name, salted))
            attempt += 1
        used.add(full)
        result.append(QualifiedName(server, tool, full))
    return sorted(result, key=lambda q: q.name)
