"""cli layer: the ``codex-engine`` command line (see cli/main.py).

Importing it also keeps httpx's command-line client and pydantic's plugin discovery, neither of
which this process uses, from loading (below).
"""

from __future__ import annotations

import sys
import types
from typing import Any


def _httpx_cli(*args: Any, **kwargs: Any) -> Any:
    """httpx's ``main``, loaded on call: drop the stand-in and import the real module."""
    import importlib

    sys.modules.pop("httpx._main", None)
    return importlib.import_module("httpx._main").main(*args, **kwargs)


def _defer_httpx_cli() -> None:
    # httpx's __init__ imports its command-line client (httpx._main), which imports rich and
    # pygments whenever they are installed (they are: `features list` uses rich): about half of
    # httpx's import time, for a function this process never calls. A stand-in whose `main`
    # loads the real module keeps `httpx.main` working. Only the CLI process does this; the
    # library leaves httpx alone.
    if "httpx" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "Stand-in for httpx's CLI, loaded on call.")
    stand_in.main = _httpx_cli  # type: ignore[attr-defined]
    sys.modules.setdefault("httpx._main", stand_in)


def _skip_pydantic_plugin_discovery() -> None:
    # The first time pydantic builds a validator it looks for plugins: it imports
    # importlib.metadata (with email, zipfile, csv...) and reads the entry points of every
    # installed distribution. The CLI uses no pydantic plugin, so it gets a loader that finds
    # none. (Like PYDANTIC_DISABLE_PLUGINS=1, without putting that in every child's environment.)
    if "pydantic.plugin._loader" in sys.modules:
        return
    stand_in = types.ModuleType("pydantic.plugin._loader", "No pydantic plugins in the CLI.")
    stand_in.get_plugins = tuple  # type: ignore[attr-defined]
    sys.modules.setdefault("pydantic.plugin._loader", stand_in)


_defer_httpx_cli()
_skip_pydantic_plugin_discovery()
