"""Adding and removing `[mcp_servers.NAME]` tables in config.toml text, leaving the rest as it is.

Pure (text in, text out). Only whole tables are touched: a server's `[mcp_servers.NAME]` table
and its sub-tables (`[mcp_servers.NAME.env]`, ...), found by their header lines. A server
written any other way (inline, or as dotted keys) is left alone and reported, so comments,
order and spacing everywhere else never change.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from codex_engine.errors import ConfigError

__all__ = ["add_server", "remove_server", "server_table"]

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _key_path(header: str) -> list[str]:
    """The dotted key of a table header, quotes removed (`mcp_servers."a b".env`)."""
    parsed = tomllib.loads(f"[{header}]\n")
    path: list[str] = []
    node: Any = parsed
    while isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return path


def _blocks(lines: Sequence[str], name: str) -> list[tuple[int, int]]:
    """(start, end) line ranges of the server's table and sub-tables."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match is None:
            continue
        try:
            path = _key_path(match.group(1))
        except tomllib.TOMLDecodeError:
            path = []
        if start is not None:
            ranges.append((start, index))
            start = None
        if path[:2] == ["mcp_servers", name]:
            start = index
    if start is not None:
        ranges.append((start, len(lines)))
    return ranges


def _present(text: str, name: str) -> bool:
    servers = tomllib.loads(text).get("mcp_servers")
    return isinstance(servers, dict) and name in servers


def remove_server(text: str, name: str) -> str | None:
    """``text`` without the server's tables; ``None`` when it has no such server."""
    if not _present(text, name):
        return None
    lines = text.splitlines(keepends=True)
    ranges = _blocks(lines, name)
    if not ranges:
        raise ConfigError(
            f"MCP server '{name}' is not written as a [mcp_servers.{name}] table in config.toml; "
            "remove it by hand"
        )
    drop = {i for start, end in ranges for i in range(start, end)}
    kept = [line for i, line in enumerate(lines) if i not in drop]
    result = "".join(kept)
    # The removed table's trailing blank lines went with it; keep one line break at the end.
    result = re.sub(r"\n{3,}", "\n\n", result)
    if _present(result, name):
        raise ConfigError(
            f"MCP server '{name}' is also set outside its [mcp_servers.{name}] table; "
            "remove it by hand"
        )
    return result


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # strings, arrays, numbers, booleans: TOML too


def _quoted(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _value(key)


def server_table(name: str, entry: Mapping[str, Any]) -> str:
    """`[mcp_servers.NAME]` with ``entry``'s values; tables become `[mcp_servers.NAME.KEY]`."""
    lines = [f"[mcp_servers.{_quoted(name)}]"]
    tables: list[str] = []
    for key, value in entry.items():
        if isinstance(value, Mapping):
            tables.append(f"\n[mcp_servers.{_quoted(name)}.{_quoted(key)}]")
            tables.extend(f"{_quoted(k)} = {_value(v)}" for k, v in value.items())
        else:
            lines.append(f"{_quoted(key)} = {_value(value)}")
    return "\n".join([*lines, *tables]) + "\n"


def add_server(text: str, name: str, entry: Mapping[str, Any]) -> str:
    """``text`` with the server's table appended (replacing a table of that name if any)."""
    if _present(text, name):
        removed = remove_server(text, name)
        assert removed is not None
        text = removed
    body = text.rstrip("\n")
    separator = "\n\n" if body else ""
    return f"{body}{separator}{server_table(name, entry)}"
