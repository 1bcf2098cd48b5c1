"""`-p NAME` as 0.163 layers it: `$CODEX_HOME/NAME.config.toml` over config.toml (under `-c`),
refused beside a legacy `[profiles.NAME]` table for the same name; the table alone still works."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_engine.config import load_config, parse_override
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
