"""Which commands only read: those may run without a sandbox or an approval.

Each known program has a parser of its arguments that accepts only options known not to write,
execute or change repository state; anything not recognised needs a sandbox or a yes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

from codex_engine.core.tools.git_safety import git_is_read_only
from codex_engine.core.tools.shell_script import Word, parse_simple_commands, split_shell_script

__all__ = ["is_known_safe_command", "split_shell_script"]

# No option of these writes a file or runs another program, so any arguments are fine, even
# ones the shell expands from file names.
_PLAIN_READERS = frozenset(
    {
        "cat", "cd", "cut", "echo", "expr", "false", "grep", "head", "id", "ls", "nl", "numfmt",
        "paste", "pwd", "rev", "seq", "stat", "tac", "tail", "tr", "true", "uname", "wc", "which",
        "whoami",
    }
)  # fmt: skip

# Programs resolved from these directories are the system's; a path anywhere else (``./cat``)
# may be a script that only borrows a known name.
_SYSTEM_BIN_DIRS = frozenset(
    {"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/opt/homebrew/bin"}
)
_SHELLS = frozenset({"bash", "sh", "zsh"})
_SHELL_SCRIPT_FLAGS = frozenset({"-c", "-lc"})

# `sed -n ADDRp`: a line number or `$`, optionally a range.
_SED_PRINT = re.compile(r"(?:[0-9]+|\$)(?:,(?:[0-9]+|\$))?p")


def _program(word: Word) -> str | None:
    """The program a command word names, or ``None`` if it is not a known system program."""
    if word.expands:
        return None
    if "/" not in word.text:
        return word.text
    path = PurePosixPath(word.text)
    return path.name if str(path.parent) in _SYSTEM_BIN_DIRS else None


def _mentions_option(args: Sequence[str], short: str, long: Iterable[str]) -> bool:
    """Whether any argument may be one of these options (conservatively).

    Every argument is examined, values and operands included, so an option is never missed
    because its position was misjudged. A short option counts anywhere in a cluster (``-nro X``
    holds ``-o``); a long one also as any prefix GNU getopt would accept (``--outp=X``).
    """
    longs = tuple(long)
    for arg in args:
        if arg.startswith("--"):
            name = arg[2:].split("=", 1)[0]
            if name and any(option.startswith(name) for option in longs):
                return True
        elif arg.startswith("-") and any(ch in short for ch in arg[1:]):
            return True
    return False


def _option_guard(short: str, *long: str) -> Callable[[Sequence[str]], bool]:
    def check(args: Sequence[str]) -> bool:
        return not _mentions_option(args, short, long)

    return check


def _sed_prints_lines(args: Sequence[str]) -> bool:
    """Only ``sed -n N[,M]p [FILE…]``: printing lines, never a script that writes or runs."""
    if len(args) < 2 or args[0] != "-n" or _SED_PRINT.fullmatch(args[1]) is None:
        return False
    files = list(args[2:])
    if "--" in files:
        files = files[: files.index("--")]
    # GNU sed takes options after operands too (`sed -n 1p F -i`).
    return not any(name.startswith("-") and name != "-" for name in files)


_FIND_UNSAFE_PREFIXES = ("-exec", "-ok", "-delete", "-fls", "-fprint")


def _find_only_lists(args: Sequence[str]) -> bool:
    """``find`` without the actions that run commands (-exec*, -ok*), delete or write files."""
    return not any(arg.startswith(_FIND_UNSAFE_PREFIXES) for arg in args)


# GNU uniq's options: those taking a value, and the long names (for resolving abbreviations).
_UNIQ_FLAGS = frozenset("cdDiuz0123456789")
_UNIQ_VALUED = frozenset("fsw")
_UNIQ_LONG_VALUED = ("check-chars", "skip-chars", "skip-fields")
_UNIQ_LONG = (
    "all-repeated", "count", "group", "help", "ignore-case", "repeated", "unique", "version",
    "zero-terminated", *_UNIQ_LONG_VALUED,
)  # fmt: skip


def _uniq_writes_nothing(args: Sequence[str]) -> bool:
    """``uniq`` with at most one file operand: a second operand is the file it writes."""
    operands = 0
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands += len(args) - i
            break
        if arg.startswith("--"):
            name, has_value, _ = arg[2:].partition("=")
            matches = [o for o in _UNIQ_LONG if o == name] or [
                o for o in _UNIQ_LONG if o.startswith(name)
            ]
            if len(matches) != 1:
                return False
            if matches[0] in _UNIQ_LONG_VALUED and not has_value:
                i += 1
        elif arg.startswith("-") and arg != "-":
            for pos, ch in enumerate(arg[1:], start=1):
                if ch in _UNIQ_VALUED:
                    if pos == len(arg) - 1:
                        i += 1  # the value is the next argument
                    break
                if ch not in _UNIQ_FLAGS:
                    return False
        else:
            operands += 1
    return operands <= 1


# Programs whose options can write or run something; each check sees the arguments (after the
# program name) only when none of them is expanded by the shell, since a file named `-i` or
# `--output=x` would otherwise become an option.
_CHECKED: dict[str, Callable[[Sequence[str]], bool]] = {
    "sed": _sed_prints_lines,
    "find": _find_only_lists,
    "uniq": _uniq_writes_nothing,
    "git": git_is_read_only,
    # BSD base64 writes with -o.
    "base64": _option_guard("o", "output"),
    # -T/--temporary-directory makes sort write its spill files where it is told.
    "sort": _option_guard("oT", "output", "compress-program", "temporary-directory"),
    # --pre and --hostname-bin run a program; -z/--search-zip run decompressors.
    "rg": _option_guard("z", "pre", "hostname-bin", "search-zip"),
    # -s/--set changes the system clock.
    "date": _option_guard("s", "set"),
}


def _simple_command_is_safe(command: Sequence[Word], *, git_allowed: bool) -> bool:
    if not command:
        return False
    program = _program(command[0])
    if program is None or (program == "git" and not git_allowed):
        return False
    args = command[1:]
    if program in _PLAIN_READERS:
        return True
    check = _CHECKED.get(program)
    if check is None or any(word.expands for word in args):
        return False
    return check([word.text for word in args])


def is_known_safe_command(argv: Sequence[str], *, at_workspace_root: bool = True) -> bool:
    """True when every part of the command is known to only read.

    ``argv`` is run as is, or is ``bash|sh|zsh -c|-lc SCRIPT`` where the script is only simple
    commands joined by ``&& || ; |`` (see :mod:`.shell_script`), each of them known safe.

    ``git`` counts as safe only where it runs in the workspace's own directory (so not when
    ``at_workspace_root`` is false, nor after a ``cd``): in a subdirectory it may find a bare
    repository checked in there, whose configuration can run programs (``core.fsmonitor``).
    """
    if not argv:
        return False
    words = [Word(arg) for arg in argv]
    shell = _program(words[0])
    if len(argv) == 3 and shell in _SHELLS and argv[1] in _SHELL_SCRIPT_FLAGS:
        commands = parse_simple_commands(argv[2], zsh=shell == "zsh")
        if commands is None:
            return False
        git_allowed = at_workspace_root
        for command in commands:
            if not _simple_command_is_safe(command, git_allowed=git_allowed):
                return False
            if _program(command[0]) == "cd":
                git_allowed = False
        return True
    return _simple_command_is_safe(words, git_allowed=at_workspace_root)
