"""Whether a command the model asked to run is really an ``apply_patch`` call, and its patch.

Two forms are recognised, as the reference recognises them: argv (``["apply_patch", PATCH]``)
and a shell heredoc (``bash -lc "apply_patch <<'EOF' … EOF"``, optionally after ``cd DIR &&``)
that is the script's only statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

import msgspec

__all__ = ["APPLY_PATCH_COMMANDS", "PatchInvocation", "patch_invocation"]

APPLY_PATCH_COMMANDS = ("apply_patch", "applypatch")
_SHELLS = ("bash", "zsh", "sh")
_SHELL_FLAGS = ("-lc", "-c")

_HEREDOC = re.compile(
    r"""\A\s*
    (?:cd\s+(?P<cd>'[^']*'|"[^"\\$`]*"|[^\s'"&;|<>$`\\]+)\s*&&\s*)?
    (?:apply_patch|applypatch)\s*<<\s*(?P<q>['"]?)(?P<delim>[A-Za-z_][A-Za-z0-9_]*)(?P=q)[ \t]*\n
    (?P<body>.*?)\n?
    (?P=delim)[ \t]*\n?\Z""",
    re.DOTALL | re.VERBOSE,
)


class PatchInvocation(msgspec.Struct, frozen=True):
    """The patch text of an ``apply_patch`` command, and the directory it changes into first."""

    patch: str
    workdir: str | None = None


def patch_invocation(argv: Sequence[str]) -> PatchInvocation | None:
    """The patch ``argv`` applies, or ``None`` when it is not an ``apply_patch`` command."""
    if len(argv) == 2 and argv[0] in APPLY_PATCH_COMMANDS:
        return PatchInvocation(argv[1])
    if len(argv) == 3 and PurePath(argv[0]).name in _SHELLS and argv[1] in _SHELL_FLAGS:
        found = _HEREDOC.match(argv[2])
        if found is None:
            return None
        cd = found.group("cd")
        if cd is not None and cd[:1] in "'\"":
            cd = cd[1:-1]
        return PatchInvocation(found.group("body"), cd)
    return None
