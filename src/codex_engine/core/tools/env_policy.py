"""The environment a model's command runs with: a :class:`ShellEnvironmentPolicy` applied to a
process environment. Pure: a mapping in, a new dict out.

Order, core set and default excludes follow the reference CLI 0.163 (measured by running it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from codex_engine.config.shell_environment import ShellEnvironmentPolicy

__all__ = [
    "CORE_VARIABLES",
    "DEFAULT_EXCLUDES",
    "NON_INHERITABLE_VARIABLES",
    "THREAD_ID_VARIABLE",
    "create_env",
    "matches_pattern",
]

#: What `inherit = "core"` keeps (names compared ignoring case, as the reference does).
CORE_VARIABLES = frozenset(
    {
        "HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "LOGNAME",
        "PATH",
        "SHELL",
        "TEMP",
        "TMP",
        "TMPDIR",
        "USER",
    }
)
#: Dropped unless `ignore_default_excludes = true` (the default): likely credentials.
DEFAULT_EXCLUDES = ("*KEY*", "*SECRET*", "*TOKEN*")
#: Set on every command so a tool can tell which conversation started it.
THREAD_ID_VARIABLE = "CODEX_THREAD_ID"
#: Launch credentials of the host process that no command may see, whatever the policy says.
NON_INHERITABLE_VARIABLES = frozenset(
    {
        "CODEX_EXEC_SERVER_NOISE_AUTH_TOKEN",
        "NODE_REPL_AUTH_TOKEN",
        "OPENAI_FEDERATION_RULE_ID",
        "OPENAI_IDENTITY_TOKEN_FILE",
        "OPENAI_WORKLOAD_IDENTITY_CONTEXT",
    }
)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    # Only `*` and `?` are special (no character classes): `[x]` matches itself.
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def matches_pattern(name: str, pattern: str) -> bool:
    """Whether the whole ``name`` matches the glob ``pattern``, ignoring case."""
    return _compiled(pattern).fullmatch(name) is not None


def _matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(matches_pattern(name, pattern) for pattern in patterns)


def create_env(
    environ: Mapping[str, str],
    policy: ShellEnvironmentPolicy,
    *,
    thread_id: str | None = None,
) -> dict[str, str]:
    """The environment for a command: ``environ`` filtered and extended by ``policy``.

    Steps, in order: inherit (all, core, none); default excludes unless ignored; ``exclude``;
    ``set``; ``include_only`` (so a ``set`` variable it does not match is dropped too); then
    ``CODEX_THREAD_ID`` when a thread id is given; the non-inheritable launch credentials are
    removed last, so not even ``set`` can restore them.
    """
    if policy.inherit == "all":
        env = dict(environ)
    elif policy.inherit == "core":
        env = {name: value for name, value in environ.items() if name.upper() in CORE_VARIABLES}
    else:
        env = {}
    if not policy.ignore_default_excludes:
        env = {k: v for k, v in env.items() if not _matches_any(k, DEFAULT_EXCLUDES)}
    if policy.exclude:
        env = {k: v for k, v in env.items() if not _matches_any(k, policy.exclude)}
    env.update(policy.set_vars)
    if policy.include_only:
        env = {k: v for k, v in env.items() if _matches_any(k, policy.include_only)}
    if thread_id is not None:
        env[THREAD_ID_VARIABLE] = thread_id
    return {k: v for k, v in env.items() if k.upper() not in NON_INHERITABLE_VARIABLES}
