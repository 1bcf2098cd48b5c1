"""Which commands only read: those may run without a sandbox or an approval.

Deliberately small and conservative; anything not recognised needs a sandbox or a yes.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

__all__ = ["is_known_safe_command", "split_shell_script"]

_SAFE_PROGRAMS = frozenset(
    {
        "cat", "cd", "cut", "date", "echo", "false", "grep", "head", "id", "ls", "nl", "pwd",
        "rg", "sort", "stat", "tail", "tr", "true", "uname", "uniq", "wc", "which", "whoami",
    }
)  # fmt: skip
_SAFE_GIT = frozenset({"status", "log", "diff", "show", "branch", "rev-parse", "ls-files"})
_UNSAFE_FIND = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint"})
_UNSAFE_RG = frozenset({"--pre", "--search-zip", "-z"})
_SEPARATORS = frozenset({"&&", "||", ";", "|"})
_SHELLS = frozenset({"bash", "sh", "zsh"})


def split_shell_script(script: str) -> list[list[str]] | None:
    """Split ``a && b | c`` into simple commands; ``None`` if it uses anything else.

    Redirections, subshells, substitutions and backgrounding make a script not plainly
    read-only, so they are refused here rather than analysed.
    """
    if any(marker in script for marker in ("$(", "`", "\n")):
        return None
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _SEPARATORS:
            if not commands[-1]:
                return None
            commands.append([])
        elif token and all(ch in "();<>|&" for ch in token):
            return None
        else:
            commands[-1].append(token)
    if not commands[-1]:
        return None
    return commands


def _simple_command_is_safe(argv: Sequence[str]) -> bool:
    program = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if program in _SAFE_PROGRAMS:
        return not (program == "rg" and any(a.split("=")[0] in _UNSAFE_RG for a in args))
    if program == "find":
        return not any(a in _UNSAFE_FIND for a in args)
    if program == "git":
        return bool(args) and args[0] in _SAFE_GIT
    if program == "sed":
        # Only ``sed -n <range>p [file]``: printing, never editing in place.
        return len(args) >= 2 and args[0] == "-n" and args[1].endswith("p")
    return False


def is_known_safe_command(argv: Sequence[str]) -> bool:
    """True when every part of the command is known to only read."""
    if not argv:
        return False
    program = argv[0].rsplit("/", 1)[-1]
    if program in _SHELLS and len(argv) == 3 and argv[1] in {"-c", "-lc"}:
        parts = split_shell_script(argv[2])
        return parts is not None and all(_simple_command_is_safe(p) for p in parts)
    return _simple_command_is_safe(argv)
