"""`[mcp_servers.NAME]` tables of config.toml: the MCP servers a session starts, as plain data.

Keys are the reference's. A stdio server has `command` (with `args`, `env`, `env_vars`, `cwd`); a
streamable HTTP server has `url` (with `bearer_token_env_var`, `http_headers`, `env_http_headers`).
A wrong entry is a one-line ConfigError naming the server and the key; unknown keys only warn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import msgspec

from codex_engine.errors import ConfigError
from codex_engine.protocol.secret_repr import SecretRepr

__all__ = [
    "DEFAULT_STARTUP_TIMEOUT_S",
    "DEFAULT_TOOL_TIMEOUT_S",
    "HttpTransport",
    "McpServerConfig",
    "StdioTransport",
    "ToolApprovalMode",
    "parse_mcp_servers",
]

#: How long a server may take to initialize and list its tools.
DEFAULT_STARTUP_TIMEOUT_S = 10.0
#: How long one tool call (or resource request) may take.
DEFAULT_TOOL_TIMEOUT_S = 120.0

ToolApprovalMode = Literal["auto", "prompt", "approve"]
_APPROVAL_MODES = ("auto", "prompt", "approve")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

_STDIO_KEYS = ("command", "args", "env", "env_vars", "cwd")
_HTTP_KEYS = ("url", "bearer_token_env_var", "http_headers", "env_http_headers")
_SHARED_KEYS = (
    "enabled",
    "required",
    "startup_timeout_sec",
    "startup_timeout_ms",
    "tool_timeout_sec",
    "enabled_tools",
    "disabled_tools",
    "default_tools_approval_mode",
    "tools",
)
#: Reference keys codex-engine accepts and does not act on (OAuth, remote environments, ...).
_IGNORED_KEYS = (
    "name",
    "scopes",
    "oauth_resource",
    "experimental_environment",
    "supports_parallel_tool_calls",
)
_KNOWN_KEYS = (*_STDIO_KEYS, *_HTTP_KEYS, *_SHARED_KEYS, *_IGNORED_KEYS, "bearer_token")


class StdioTransport(SecretRepr, msgspec.Struct, frozen=True):
    """A server run as a child process speaking JSON-RPC lines on stdin/stdout."""

    command: str
    args: tuple[str, ...] = ()
    #: Set in the child's environment (over the few variables every server inherits); not in
    #: repr.
    env: Mapping[str, str] = msgspec.field(default_factory=dict)
    #: Names of variables copied from this process's environment into the child's.
    env_vars: tuple[str, ...] = ()
    cwd: str | None = None

    secret_fields: ClassVar[frozenset[str]] = frozenset({"env"})


class HttpTransport(SecretRepr, msgspec.Struct, frozen=True):
    """A server reached over MCP streamable HTTP."""

    url: str
    #: The variable holding the bearer token (the token itself never sits in config).
    bearer_token_env_var: str | None = None
    #: Not in repr (a static header may hold a token).
    http_headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    #: Header name -> variable whose value is sent as that header (skipped when unset or blank).
    env_http_headers: Mapping[str, str] = msgspec.field(default_factory=dict)

    secret_fields: ClassVar[frozenset[str]] = frozenset({"http_headers"})


class McpServerConfig(msgspec.Struct, frozen=True):
    """One `[mcp_servers.NAME]` entry, validated."""

    name: str
    transport: StdioTransport | HttpTransport
    enabled: bool = True
    #: A required server that fails to start fails the session start.
    required: bool = False
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S
    tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S
    #: Only these tools are offered (None: all), minus `disabled_tools`.
    enabled_tools: frozenset[str] | None = None
    disabled_tools: frozenset[str] = frozenset()
    default_tools_approval_mode: ToolApprovalMode = "auto"
    #: Per-tool `approval_mode` from `[mcp_servers.NAME.tools.TOOL]`.
    tool_approval_modes: Mapping[str, ToolApprovalMode] = msgspec.field(default_factory=dict)

    def allows(self, tool: str) -> bool:
        """Whether `tool` passes `enabled_tools` and `disabled_tools`."""
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return tool not in self.disabled_tools

    def approval_mode(self, tool: str) -> ToolApprovalMode:
        return self.tool_approval_modes.get(tool, self.default_tools_approval_mode)


class _Entry:
    """Typed reads of one server table; every failure names the server and the key."""

    def __init__(self, name: str, table: Mapping[str, Any], source: Callable[[str], str]) -> None:
        self.name = name
        self.table = table
        self._source = source

    def where(self, key: str) -> str:
        return self._source(key)

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(
            f"invalid MCP server `{self.name}`: `mcp_servers.{self.name}.{key}` {problem} "
            f"({self.where(key)}); fix or remove it"
        )

    def string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def seconds(self, key: str, scale: float = 1.0) -> float | None:
        value = self.table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number")
        if not math.isfinite(value) or value <= 0:
            raise self.fail(key, "must be a positive number")
        return float(value) * scale

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be an array of strings")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str] | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, "must be a table of strings")
        return dict(value)

    def env_vars(self) -> tuple[str, ...] | None:
        """`env_vars`: names, or `{ name = "X", source = "local" }` tables (the reference's)."""
        value = self.table.get("env_vars")
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.fail("env_vars", "must be an array of variable names")
        names: list[str] = []
        for entry in value:
            if isinstance(entry, dict):
                source = entry.get("source", "local")
                if source != "local":
                    raise self.fail("env_vars", f"source {source!r} is not supported (use local)")
                entry = entry.get("name")
            if not isinstance(entry, str) or not entry:
                raise self.fail("env_vars", "must be an array of variable names")
            names.append(entry)
        return tuple(names)

    def approval_mode(self, value: Any, key: str) -> ToolApprovalMode:
        if value not in _APPROVAL_MODES:
            raise self.fail(key, f"must be one of {', '.join(_APPROVAL_MODES)}")
        mode: ToolApprovalMode = value
        return mode


def _transport(entry: _Entry) -> StdioTransport | HttpTransport:
    command, url = entry.string("command"), entry.string("url")
    if "bearer_token" in entry.table:
        raise entry.fail(
            "bearer_token", "is not supported: put the token in a variable named by "
            "`bearer_token_env_var`"
        )  # fmt: skip
    if command is not None:
        for key in _HTTP_KEYS:
            if key in entry.table:
                raise entry.fail(key, "is not supported for a stdio server (it has `command`)")
        return StdioTransport(
            command=command,
            args=entry.strings("args") or (),
            env=entry.string_map("env") or {},
            env_vars=entry.env_vars() or (),
            cwd=entry.string("cwd"),
        )
    if url is not None:
        for key in _STDIO_KEYS[1:]:
            if key in entry.table:
                raise entry.fail(
                    key, "is not supported for a streamable HTTP server (it has `url`)"
                )
        if not url.startswith(("http://", "https://")):
            raise entry.fail("url", "must be an http:// or https:// URL")
        return HttpTransport(
            url=url,
            bearer_token_env_var=entry.string("bearer_token_env_var"),
            http_headers=entry.string_map("http_headers") or {},
            env_http_headers=entry.string_map("env_http_headers") or {},
        )
    raise entry.fail("command", "is missing: set `command` (stdio) or `url` (streamable HTTP)")


def _tool_modes(entry: _Entry) -> dict[str, ToolApprovalMode]:
    tools = entry.table.get("tools")
    if tools is None:
        return {}
    if not isinstance(tools, dict):
        raise entry.fail("tools", "must be a table of tool tables")
    modes: dict[str, ToolApprovalMode] = {}
    for tool, settings in tools.items():
        key = f"tools.{tool}.approval_mode"
        if not isinstance(settings, dict):
            raise entry.fail(f"tools.{tool}", "must be a table")
        if "approval_mode" in settings:
            modes[tool] = entry.approval_mode(settings["approval_mode"], key)
    return modes


def _server(entry: _Entry) -> McpServerConfig:
    if not _SERVER_NAME.match(entry.name):
        raise ConfigError(
            f"invalid MCP server name `{entry.name}` ({entry.where('')}): names may use letters, "
            "digits, `_` and `-` only; rename the [mcp_servers] table"
        )
    startup = entry.seconds("startup_timeout_sec")
    if startup is None:
        startup = entry.seconds("startup_timeout_ms", scale=0.001)
    enabled_tools = entry.strings("enabled_tools")
    default_mode = entry.table.get("default_tools_approval_mode", "auto")
    return McpServerConfig(
        name=entry.name,
        transport=_transport(entry),
        enabled=entry.boolean("enabled", True),
        required=entry.boolean("required", False),
        startup_timeout_s=startup or DEFAULT_STARTUP_TIMEOUT_S,
        tool_timeout_s=entry.seconds("tool_timeout_sec") or DEFAULT_TOOL_TIMEOUT_S,
        enabled_tools=frozenset(enabled_tools) if enabled_tools is not None else None,
        disabled_tools=frozenset(entry.strings("disabled_tools") or ()),
        default_tools_approval_mode=entry.approval_mode(
            default_mode, "default_tools_approval_mode"
        ),
        tool_approval_modes=_tool_modes(entry),
    )


def parse_mcp_servers(
    tables: Any, *, source_for: Callable[[Sequence[str]], str]
) -> tuple[dict[str, McpServerConfig], list[str]]:
    """The configured servers (in file order) and warnings about keys that are ignored.

    ``source_for`` names where a key path came from (the file, or a ``-c`` override).
    """
    if tables is None:
        return {}, []
    if not isinstance(tables, dict):
        raise ConfigError(
            f"`mcp_servers` must be a table of server tables ({source_for(['mcp_servers'])}); "
            "write one [mcp_servers.NAME] table per server"
        )
    servers: dict[str, McpServerConfig] = {}
    warnings: list[str] = []
    for name, table in tables.items():
        path = ["mcp_servers", name]
        if not isinstance(table, dict):
            raise ConfigError(
                f"invalid MCP server `{name}`: `mcp_servers.{name}` must be a table "
                f"({source_for(path)}); write it as [mcp_servers.{name}]"
            )

        def where(key: str, path: list[str] = path) -> str:
            return source_for([*path, key] if key else path)

        entry = _Entry(name, table, where)
        servers[name] = _server(entry)
        for key in table:
            if key not in _KNOWN_KEYS:
                warnings.append(
                    f"unknown key `{key}` in [mcp_servers.{name}] ({source_for([*path, key])}) "
                    "is ignored; check its spelling"
                )
    return servers, warnings
