"""The app-server's method handlers, one module per method family.

Importing this package fills :data:`~codex_engine.app_server.registry.REGISTRY`. A new family is
a module here, imported below.
"""

# isort: off
# The gaps come first: a family module that implements a pending method replaces its entry.
from codex_engine.app_server.handlers import gaps

# isort: on
from codex_engine.app_server.handlers import (
    accounts,
    command_exec,
    config,
    fs,
    fs_watch,
    goals,
    initialize,
    mcp,
    models,
    review,
    shell_command,
    thread_admin,
    thread_history,
    thread_meta,
    threads,
    turns,
)

__all__ = [
    "accounts",
    "command_exec",
    "config",
    "fs",
    "fs_watch",
    "gaps",
    "goals",
    "initialize",
    "mcp",
    "models",
    "review",
    "shell_command",
    "thread_admin",
    "thread_history",
    "thread_meta",
    "threads",
    "turns",
]
