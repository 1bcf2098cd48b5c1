"""Which ``git`` invocations only read: a few query subcommands, without writing or running options.

Global options that load configuration (``-c``, ``--config-env``) or point git elsewhere
(``--exec-path``, ``--git-dir``, ``-C`` other than ``.``) are refused outright: configuration can
name a pager, an alias, an fsmonitor hook or a diff driver, any of which runs a program, and a
bare repository checked into the workspace brings its own configuration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["git_is_read_only"]

# Global options that change neither what runs nor which configuration is read.
_GLOBAL_FLAGS = frozenset(
    {
        "--no-pager", "-P", "--no-optional-locks", "--no-replace-objects",
        "--literal-pathspecs", "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs",
    }
)  # fmt: skip

# Options of the read subcommands that write a file (--output) or run a program (external diff,
# textconv filters, a pager). Matched as any prefix git might accept as an abbreviation.
_UNSAFE_LONG = (
    "output", "ext-diff", "textconv", "exec", "paginate", "open-files-in-pager",
    # Runs gpg.program to verify signatures.
    "show-signature",
)  # fmt: skip
# Real options that happen to be prefixes of the ones above.
_SAFE_EXACT = frozenset({"text"})


def _no_writing_options(args: Sequence[str]) -> bool:
    for arg in args:
        if not arg.startswith("--"):
            continue
        name = arg[2:].split("=", 1)[0]
        if name and name not in _SAFE_EXACT and any(o.startswith(name) for o in _UNSAFE_LONG):
            return False
    return True


_BRANCH_LIST_FLAGS = frozenset(
    {
        "--list", "--show-current", "--all", "--remotes", "--verbose", "--ignore-case",
        "--color", "--no-color", "--no-column", "--omit-empty", "--no-abbrev",
    }
)  # fmt: skip
_BRANCH_LIST_VALUED = (
    "--format=", "--sort=", "--color=", "--abbrev=", "--contains=", "--no-contains=",
    "--merged=", "--no-merged=", "--points-at=",
)  # fmt: skip
# -a all, -l list, -r remotes, -v verbose, -i ignore case, in any cluster (`-avv`).
_BRANCH_SHORT = re.compile(r"-[alrvi]+")


def _branch_only_lists(args: Sequence[str]) -> bool:
    """``git branch`` in a listing form: no name to create, no -d/-D/-m/-c/-u/-f.

    Names are accepted only after an explicit ``--list``, where they are patterns (older gits
    read ``-l`` as --create-reflog, so ``-l NAME`` may create a branch).
    """
    listing = "--list" in args
    for arg in args:
        if arg in _BRANCH_LIST_FLAGS or arg.startswith(_BRANCH_LIST_VALUED):
            continue
        if _BRANCH_SHORT.fullmatch(arg):
            continue
        if listing and not arg.startswith("-"):
            continue
        return False
    return _no_writing_options(args)


_READ_SUBCOMMANDS: dict[str, Callable[[Sequence[str]], bool]] = {
    "status": _no_writing_options,
    "log": _no_writing_options,
    "diff": _no_writing_options,
    "show": _no_writing_options,
    "rev-parse": _no_writing_options,
    "ls-files": _no_writing_options,
    "branch": _branch_only_lists,
}


def git_is_read_only(args: Sequence[str]) -> bool:
    """Whether ``git ARGS`` (arguments after ``git``) only reads the repository."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_FLAGS:
            i += 1
        elif arg == "-C" and i + 1 < len(args) and args[i + 1] == ".":
            i += 2
        elif arg.startswith("-"):
            # -c, --config-env, --exec-path, --git-dir, --work-tree, -p/--paginate, ...
            return False
        else:
            check = _READ_SUBCOMMANDS.get(arg)
            return check is not None and check(args[i + 1 :])
    return False
