"""`codex-engine mcp list|get|add|remove`: config.toml edited table by table, the rest kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_engine.config.mcp_edit import add_server, remove_server
from codex_engine.errors import ConfigError
from tests.conftest import run_cli

ORIGINAL = """# my settings
model = "gpt-5.1-codex"  # keep this comment

[mcp_servers.old]
command = "old-server"

[mcp_servers.old.env]
TOKEN_FILE = "/tmp/t"

[shell_environment_policy]
inherit = "core"
"""


async def test_add_remove_list_and_get_keep_the_rest_of_the_file(
    codex_home: Path, tmp_path: Path
) -> None:
    config = codex_home / "config.toml"
    config.write_text(ORIGINAL)
    added = await run_cli(
        "mcp", "add", "docs", "--env", "LEVEL=debug", "--", "docs-server", "--port", "0",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert added.code == 0 and added.stdout == "Added global MCP server 'docs'.\n", added.stderr
    web = await run_cli(
        "mcp", "add", "web", "--url", "https://mcp.example.com/mcp",
        "--bearer-token-env-var", "WEB_TOKEN", home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert web.code == 0, web.stderr
    removed = await run_cli("mcp", "remove", "old", home=codex_home, cwd=tmp_path)
    assert removed.stdout == "Removed global MCP server 'old'.\n"
    text = config.read_text()
    assert text.startswith('# my settings\nmodel = "gpt-5.1-codex"  # keep this comment\n')
    assert '[shell_environment_policy]\ninherit = "core"\n' in text
    assert "old-server" not in text and "TOKEN_FILE" not in text
    assert '[mcp_servers.docs]\ncommand = "docs-server"\nargs = ["--port", "0"]\n' in text
    assert '[mcp_servers.docs.env]\nLEVEL = "debug"\n' in text

    listed = await run_cli("mcp", "list", "--json", home=codex_home, cwd=tmp_path)
    servers = {s["name"]: s for s in json.loads(listed.stdout)}
    assert servers["docs"]["transport"] == {
        "type": "stdio",
        "command": "docs-server",
        "args": ["--port", "0"],
        "env": {"LEVEL": "debug"},
        "env_vars": [],
        "cwd": None,
    }
    assert servers["web"]["transport"]["bearer_token_env_var"] == "WEB_TOKEN"
    table = await run_cli("mcp", "list", home=codex_home, cwd=tmp_path)
    assert "docs-server" in table.stdout and "LEVEL=*****" in table.stdout
    assert "debug" not in table.stdout  # env values are not shown
    got = await run_cli("mcp", "get", "web", home=codex_home, cwd=tmp_path)
    assert "  url: https://mcp.example.com/mcp" in got.stdout
    missing = await run_cli("mcp", "remove", "nope", home=codex_home, cwd=tmp_path)
    assert missing.stdout == "No MCP server named 'nope' found.\n"


async def test_add_refuses_a_bad_name_and_a_mixed_transport(
    codex_home: Path, tmp_path: Path
) -> None:
    bad = await run_cli("mcp", "add", "a b", "--", "x", home=codex_home, cwd=tmp_path)
    assert bad.code == 2 and "letters, digits" in bad.stderr
    mixed = await run_cli(
        "mcp", "add", "x", "--url", "https://h/mcp", "--env", "A=1", home=codex_home, cwd=tmp_path
    )
    assert mixed.code == 2 and "--env is only for stdio servers" in mixed.stderr
    assert not (codex_home / "config.toml").exists()


def test_a_server_written_inline_is_left_for_a_person() -> None:
    text = 'mcp_servers.inline = { command = "x" }\n'
    with pytest.raises(ConfigError, match="remove it by hand"):
        remove_server(text, "inline")
    replaced = add_server(ORIGINAL, "old", {"command": "new-server"})
    assert replaced.count("[mcp_servers.old]") == 1 and "new-server" in replaced
    assert "TOKEN_FILE" not in replaced
