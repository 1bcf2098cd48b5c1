"""The config layer stands on msgspec alone: importing ``codex_engine.config`` and loading a full
config (provider, MCP server, profile, overrides, edits, a refused value, the catalog) in a fresh
interpreter leaves pydantic unimported (``codex-engine exec`` must not pay for it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

#: Runs in a fresh interpreter with CODEX_HOME set; prints what it loaded, then the modules.
SCRIPT = """
import os, sys
from pathlib import Path
import codex_engine.config
from codex_engine.config import list_models, load_config, parse_overrides
from codex_engine.config.edit import ConfigEdit, apply_edits
from codex_engine.errors import ConfigError

home = Path(os.environ["CODEX_HOME"])
config = load_config(
    overrides=parse_overrides(["model_context_window=64000", "features.runtime_metrics=true"]),
    profile="work",
    cwd=home,
)
info, _ = config.model_info()
print(config.model, config.model_provider_id, config.model_provider.base_url)
print(sorted(config.mcp_servers), config.shell_environment_policy.inherit, info.context_window)
print(len(list_models()), config.features.enabled("runtime_metrics"))
apply_edits("model = 'a'\\n", [ConfigEdit("model_reasoning_effort", "high")], source="t")
try:
    load_config(overrides=parse_overrides(["model_context_window=big"]), cwd=home)
except ConfigError as exc:
    print(exc)
print("MODULES", " ".join(sorted(sys.modules)))
"""

CONFIG = """
model_provider = "lab"
[model_providers.lab]
name = "Lab"
base_url = "http://127.0.0.1:9/v1"
env_http_headers = { "X-Team" = "TEAM" }

[mcp_servers.docs]
command = "docs-server"
args = ["--stdio"]
env = { TOKEN = "t" }

[mcp_servers.remote]
url = "http://127.0.0.1:9/mcp"

[shell_environment_policy]
inherit = "core"

[profiles.work]
model = "gpt-5.1-codex"
model_reasoning_effort = "low"
"""


def test_loading_a_full_config_never_imports_pydantic(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The config really loaded: profile, provider, servers, policy, override, feature, catalog.
    assert lines[0] == "gpt-5.1-codex lab http://127.0.0.1:9/v1"
    assert lines[1] == "['docs', 'remote'] core 64000"
    assert lines[2].split()[1] == "True" and int(lines[2].split()[0]) > 5
    assert "`model_context_window` (-c override): expected an integer" in lines[3]
    modules = lines[-1].removeprefix("MODULES ").split()
    assert "codex_engine.config.loader" in modules
    assert [m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")] == []
