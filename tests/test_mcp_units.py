"""The pure parts of MCP support: tool names, schema adaptation, config entries, approval rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.types import ToolAnnotations

from codex_engine.config.loader import load_config
from codex_engine.config.mcp_servers import HttpTransport, StdioTransport
from codex_engine.core.tools.mcp import requires_approval
from codex_engine.errors import ConfigError
from codex_engine.mcp import manager as manager_module
from codex_engine.mcp.manager import McpManager
from codex_engine.mcp.names import MAX_TOOL_NAME_LENGTH, qualify
from codex_engine.mcp.schema import sanitize_input_schema

# -- names -------------------------------------------------------------------------------------


def test_names_are_sanitised_and_collisions_get_the_reference_hashes() -> None:
    # Measured on the reference 0.163 with these tools on a server named `my-srv`.
    names = {
        (q.server, q.tool): q.name
        for q in qualify(
            [
                ("my-srv", "my-tool"),
                ("my-srv", "tool_with_dot"),
                ("my-srv", "tool.with.dot"),
                ("my-srv", "ünïcode"),
            ]
        )
    }
    assert names == {
        ("my-srv", "my-tool"): "mcp__my_srv__my_tool",
        ("my-srv", "tool_with_dot"): "mcp__my_srv__tool_with_dot_bb5ef7cdaf16",
        ("my-srv", "tool.with.dot"): "mcp__my_srv__tool_with_dot_aa1b177e6e4b",
        ("my-srv", "ünïcode"): "mcp__my_srv___n_code",
    }


def test_names_are_length_limited_unique_and_independent_of_order() -> None:
    long_tool = "a_very_long_tool_name_that_goes_on_and_on_past_sixty_four_characters_x"
    tools = [("srv", long_tool), ("srv", long_tool + "y"), ("a.b", "t"), ("a-b", "t")]
    first = qualify(tools)
    assert first == qualify(reversed(tools))
    names = [q.name for q in first]
    assert len(set(names)) == len(names) == 4
    assert all(len(n) <= MAX_TOOL_NAME_LENGTH for n in names)
    assert all(n.startswith("mcp__") for n in names)
    long_names = [q.name for q in first if q.server == "srv"]
    assert all(n.startswith("mcp__srv__a_very_long_tool_name") for n in long_names)


# -- schema ------------------------------------------------------------------------------------


def test_input_schema_is_adapted_as_the_reference_sends_it() -> None:
    # Inputs and expected outputs measured on the reference 0.163 (see the module docstring).
    schema = {
        "type": "object",
        "title": "args",
        "properties": {
            "a": True,
            "b": {},
            "c": {"const": "fixed"},
            "f": {"type": "string", "format": "date-time", "pattern": "^x", "minLength": 1},
            "x": {"description": "no type", "minimum": 1},
            "arr": {"type": "array"},
            "ap": {"type": "object", "additionalProperties": {"type": "integer"}},
            "u": {"type": ["string", "null"]},
            "e": {"enum": [1, "b", None]},
            "m": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "title": "M"},
            "n": {"$ref": "#/$defs/Node"},
        },
        "required": ["arr", "ghost"],
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
    }
    assert sanitize_input_schema(schema) == {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "ap": {"type": "object", "properties": {}, "additionalProperties": {"type": "integer"}},
            "arr": {"type": "array", "items": {"type": "string"}},
            "b": {},
            "c": {"type": "string", "enum": ["fixed"]},
            "e": {"type": "string", "enum": [1, "b", None]},
            "f": {"type": "string"},
            "m": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "n": {"$ref": "#/$defs/Node"},
            "u": {"type": ["string", "null"]},
            "x": {"type": "number", "description": "no type"},
        },
        "required": ["arr", "ghost"],
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
    }
    assert sanitize_input_schema({"type": "object"}) == {"type": "object", "properties": {}}
    assert sanitize_input_schema(None) == {"type": "object", "properties": {}}


# -- approval rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hints", "asks"),
    [
        (None, True),
        ({}, True),
        ({"readOnlyHint": True}, False),
        ({"readOnlyHint": True, "destructiveHint": True}, True),
        ({"destructiveHint": False}, True),
        ({"destructiveHint": False, "openWorldHint": False}, False),
        ({"openWorldHint": False}, True),
    ],
)
def test_which_annotations_need_approval(hints: dict[str, Any] | None, asks: bool) -> None:
    annotations = ToolAnnotations(**hints) if hints is not None else None
    assert requires_approval(annotations) is asks


# -- config ------------------------------------------------------------------------------------


def _load(home: Path, text: str) -> Any:
    (home / "config.toml").write_text(text)
    return load_config(codex_home=home, env={}, cwd=home)


def test_config_reads_the_reference_keys(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        """
[mcp_servers.local]
command = "srv"
args = ["--x"]
env = { A = "1" }
env_vars = ["B", { name = "C", source = "local" }]
cwd = "sub"
startup_timeout_sec = 2.5
tool_timeout_sec = 9
enabled_tools = ["a"]
disabled_tools = ["b"]
required = true
default_tools_approval_mode = "prompt"
tools.a.approval_mode = "approve"

[mcp_servers.remote]
url = "https://example.com/mcp"
bearer_token_env_var = "TOKEN"
http_headers = { X = "1" }
env_http_headers = { Y = "VAR" }
startup_timeout_ms = 750
enabled = false
""",
    )
    local, remote = config.mcp_servers["local"], config.mcp_servers["remote"]
    assert local.transport == StdioTransport(
        command="srv", args=("--x",), env={"A": "1"}, env_vars=("B", "C"), cwd="sub"
    )
    assert (local.startup_timeout_s, local.tool_timeout_s, local.required) == (2.5, 9.0, True)
    assert local.allows("a") and not local.allows("b") and not local.allows("c")
    assert local.approval_mode("a") == "approve" and local.approval_mode("z") == "prompt"
    assert remote.transport == HttpTransport(
        url="https://example.com/mcp",
        bearer_token_env_var="TOKEN",
        http_headers={"X": "1"},
        env_http_headers={"Y": "VAR"},
    )
    assert remote.startup_timeout_s == 0.75 and remote.enabled is False
    assert config.feature_warnings == []


def test_unknown_keys_warn_and_bad_entries_fail_naming_server_and_key(tmp_path: Path) -> None:
    config = _load(tmp_path, '[mcp_servers.s]\ncommand = "x"\ncomand_args = []\n')
    assert config.feature_warnings == [
        f"unknown key `comand_args` in [mcp_servers.s] ({tmp_path / 'config.toml'}) is "
        "ignored; check its spelling"
    ]
    cases = {
        '[mcp_servers.s]\nargs = ["x"]\n': "`mcp_servers.s.command` is missing",
        '[mcp_servers.s]\ncommand = "x"\nurl = "http://h"\n': "`mcp_servers.s.url` is not",
        '[mcp_servers.s]\nurl = "http://h"\nenv = {}\n': "`mcp_servers.s.env` is not",
        '[mcp_servers.s]\ncommand = "x"\nstartup_timeout_sec = "10"\n': "must be a number",
        '[mcp_servers.s]\ncommand = "x"\ntool_timeout_sec = -1\n': "positive number",
        '[mcp_servers.s]\ncommand = "x"\nargs = "a b"\n': "array of strings",
        '[mcp_servers.s]\nurl = "ftp://h"\n': "http:// or https://",
        '[mcp_servers.s]\nurl = "http://h"\nbearer_token = "t"\n': "bearer_token_env_var",
        '[mcp_servers."a b"]\ncommand = "x"\n': "invalid MCP server name `a b`",
        "mcp_servers = 3\n": "expected a table",
    }
    for text, needle in cases.items():
        with pytest.raises(ConfigError) as caught:
            _load(tmp_path, text)
        message = str(caught.value)
        assert needle in message and "\n" not in message, (text, message)


async def test_without_the_sdk_configured_servers_are_one_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = _load(tmp_path, '[mcp_servers.a]\ncommand = "x"\n[mcp_servers.b]\ncommand = "y"\n')
    monkeypatch.setattr(manager_module, "sdk_available", lambda: False)
    manager = McpManager(config.mcp_servers, environ={}, cwd=tmp_path)
    manager.start()
    await manager.wait_started()
    assert manager.take_warnings() == [
        "MCP servers are configured (a, b) but not started: the `mcp` package is not installed; "
        "install it with `pip install 'codex-engine[mcp]'`"
    ]
    assert manager.tools() == {} and manager.connections == {}
    await manager.close()


def test_a_namespaced_call_names_the_same_tool_as_the_flat_name() -> None:
    from codex_engine.core.tools.mcp import _qualified
    from codex_engine.protocol.items import parse_item

    flat = parse_item({"type": "function_call", "name": "mcp__docs__echo", "arguments": "{}",
                       "call_id": "a"})  # fmt: skip
    spaced = parse_item({"type": "function_call", "name": "echo", "namespace": "mcp__docs",
                         "arguments": "{}", "call_id": "b"})  # fmt: skip
    assert _qualified(flat) == _qualified(spaced) == "mcp__docs__echo"  # type: ignore[arg-type]
