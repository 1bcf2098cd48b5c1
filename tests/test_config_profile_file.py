"""`-p NAME` as 0.163 layers it: `$CODEX_HOME/NAME.config.toml` over config.toml (under `-c`),
refused beside a legacy `[profiles.NAME]` table for the same name; the table alone still works.
The file is a whole layer: its providers and MCP servers merge entry by entry over config.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_engine.config import load_config, parse_override
from codex_engine.config.mcp_servers import StdioTransport
from codex_engine.errors import ConfigError


def _home(tmp_path: Path, config: str, profile_file: str | None = None) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(config)
    if profile_file is not None:
        (home / "work.config.toml").write_text(profile_file)
    return home


def test_the_profile_file_layers_over_config_toml_and_under_overrides(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        'model = "gpt-5.1-codex"\nmodel_reasoning_effort = "low"\n',
        'model = "gpt-5.5"\nsandbox_mode = "workspace-write"\n',
    )
    config = load_config(codex_home=home, profile="work", cwd=tmp_path)
    assert (config.model, config.sandbox_mode) == ("gpt-5.5", "workspace-write")
    assert config.model_reasoning_effort == "low"  # from config.toml, not replaced
    overridden = load_config(
        codex_home=home, profile="work", cwd=tmp_path, overrides=[parse_override("model=o3")]
    )
    assert overridden.model == "o3"
    # Without -p the file is not read.
    assert load_config(codex_home=home, cwd=tmp_path).model == "gpt-5.1-codex"


def test_a_profile_file_beside_a_legacy_table_of_the_same_name_is_refused(tmp_path: Path) -> None:
    home = _home(tmp_path, '[profiles.work]\nmodel = "gpt-5.4"\n', 'model = "gpt-5.5"\n')
    with pytest.raises(ConfigError) as err:
        load_config(codex_home=home, profile="work", cwd=tmp_path)
    message = str(err.value)
    assert "work.config.toml" in message and "[profiles.work]" in message
    assert "\n" not in message


def test_the_legacy_profile_table_still_works_alone(tmp_path: Path) -> None:
    home = _home(tmp_path, 'model = "gpt-5.1-codex"\n[profiles.work]\nmodel = "gpt-5.4"\n')
    assert load_config(codex_home=home, profile="work", cwd=tmp_path).model == "gpt-5.4"


def test_a_bad_value_in_the_profile_file_names_that_file(tmp_path: Path) -> None:
    home = _home(tmp_path, "", 'sandbox_mode = "everything"\n')
    with pytest.raises(ConfigError, match=r"work\.config\.toml"):
        load_config(codex_home=home, profile="work", cwd=tmp_path)


def test_an_unknown_profile_names_both_places_it_was_looked_for(tmp_path: Path) -> None:
    home = _home(tmp_path, "")
    with pytest.raises(ConfigError) as err:
        load_config(codex_home=home, profile="work", cwd=tmp_path)
    assert "work.config.toml" in str(err.value) and "not defined" in str(err.value)


def test_a_provider_defined_only_in_the_profile_file_is_used(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        'model = "gpt-5.5"\n',
        'model_provider = "lab"\n'
        '[model_providers.lab]\nname = "Lab"\nbase_url = "http://127.0.0.1:9/v1"\n',
    )
    config = load_config(codex_home=home, profile="work", cwd=tmp_path)
    assert config.model_provider_id == "lab"
    assert config.model_provider.base_url == "http://127.0.0.1:9/v1"
    assert config.feature_warnings == []
    # Without -p the provider does not exist.
    assert "lab" not in load_config(codex_home=home, cwd=tmp_path).model_providers


def test_profile_file_provider_keys_merge_over_config_toml_and_under_overrides(
    tmp_path: Path,
) -> None:
    home = _home(
        tmp_path,
        '[model_providers.lab]\nname = "Lab"\nbase_url = "http://a/v1"\nrequest_max_retries = 1\n'
        '[model_providers.other]\nname = "Other"\nbase_url = "http://o/v1"\n',
    )
    (home / "work.config.toml").write_text('[model_providers.lab]\nbase_url = "http://b/v1"\n')
    config = load_config(codex_home=home, profile="work", cwd=tmp_path)
    lab = config.model_providers["lab"]
    assert (lab.base_url, lab.request_max_retries) == ("http://b/v1", 1)
    assert config.model_providers["other"].base_url == "http://o/v1"
    overridden = load_config(
        codex_home=home,
        profile="work",
        cwd=tmp_path,
        overrides=[parse_override('model_providers.lab.base_url="http://c/v1"')],
    )
    assert overridden.model_providers["lab"].base_url == "http://c/v1"


def test_a_bad_provider_in_the_profile_file_names_that_file(tmp_path: Path) -> None:
    home = _home(tmp_path, "", '[model_providers.lab]\nname = "Lab"\nwire_api = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(codex_home=home, profile="work", cwd=tmp_path)
    message = str(err.value)
    assert "work.config.toml" in message and "wire_api" in message and "\n" not in message


def test_mcp_servers_of_the_profile_file_join_those_of_config_toml(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        '[mcp_servers.docs]\ncommand = "docs-server"\n',
        '[mcp_servers.lab]\ncommand = "lab-server"\n[mcp_servers.docs]\nenabled = false\n',
    )
    servers = load_config(codex_home=home, profile="work", cwd=tmp_path).mcp_servers
    assert list(servers) == ["docs", "lab"]
    docs = servers["docs"]
    assert docs.enabled is False  # merged key by key: still docs-server, now disabled
    assert isinstance(docs.transport, StdioTransport) and docs.transport.command == "docs-server"
    assert list(load_config(codex_home=home, cwd=tmp_path).mcp_servers) == ["docs"]
