"""The app-server's method handlers, one module per method family.

Importing this package registers every family in
:data:`~codex_engine.app_server.registry.REGISTRY` by name only (:data:`FAMILIES`): a family's
module is imported on the first call of one of its methods, so ``initialize`` and ``model/list``
answer without loading the session engine. A new family is a module here and a row below
(tests/test_app_server_registry.py checks the table against the modules).
"""

from __future__ import annotations

import sys
from types import ModuleType

# The gaps come first, imported now: a family module that implements a pending method replaces
# its entry when it loads (the registry loads a family before it answers "pending").
from codex_engine.app_server.handlers import gaps
from codex_engine.app_server.registry import REGISTRY

__all__ = ["FAMILIES", "gaps", "loaded"]

#: Family module (under this package) -> the methods it declares.
FAMILIES: dict[str, tuple[str, ...]] = {
    "accounts": (
        "account/read",
        "account/login/start",
        "account/login/cancel",
        "account/logout",
        "account/rateLimits/read",
    ),
    "command_exec": (
        "command/exec",
        "command/exec/write",
        "command/exec/resize",
        "command/exec/terminate",
    ),
    "config": (
        "config/read",
        "config/value/write",
        "config/batchWrite",
        "configRequirements/read",
        "experimentalFeature/list",
        "experimentalFeature/enablement/set",
        "permissionProfile/list",
        "modelProvider/capabilities/read",
    ),
    "fs": (
        "fs/readFile",
        "fs/writeFile",
        "fs/createDirectory",
        "fs/getMetadata",
        "fs/readDirectory",
        "fs/remove",
        "fs/copy",
        "fuzzyFileSearch",
    ),
    "fs_watch": ("fs/watch", "fs/unwatch"),
    "goals": ("thread/goal/set", "thread/goal/get", "thread/goal/clear"),
    "initialize": ("initialize",),
    "mcp": (
        "mcpServerStatus/list",
        "mcpServer/tool/call",
        "mcpServer/resource/read",
        "config/mcpServer/reload",
    ),
    "models": ("model/list",),
    "review": ("review/start",),
    "shell_command": ("thread/shellCommand",),
    "thread_admin": ("thread/loaded/list", "thread/unsubscribe", "thread/delete"),
    "thread_history": (
        "thread/turns/list",
        "thread/items/list",
        "thread/inject_items",
        "thread/revert",
    ),
    "thread_meta": ("thread/metadata/update",),
    "threads": (
        "thread/start",
        "thread/resume",
        "thread/fork",
        "thread/list",
        "thread/read",
        "thread/archive",
        "thread/unarchive",
        "thread/name/set",
    ),
    "turns": ("turn/start", "thread/compact/start", "turn/interrupt", "turn/steer"),
}

for _family, _names in FAMILIES.items():
    REGISTRY.lazy(f"{__name__}.{_family}", _names)


def loaded(family: str) -> ModuleType | None:
    """The family's module if a call has loaded it, else ``None`` (it then holds no state)."""
    return sys.modules.get(f"{__name__}.{family}")
