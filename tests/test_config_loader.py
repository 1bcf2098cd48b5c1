"""load_config: files, profiles, overrides, providers and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_engine.config import DEFAULT_MODEL, load_config, parse_override
from codex_engine.config.catalog import default_base_instructions
from codex_engine.config.loader import Config
from codex_engine.errors import ConfigError


def write(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(home: Path, *overrides: str, profile: str | None = None, **env: str) -> Config:
    return load_config(
        codex_home=home,
        overrides=[parse_override(o) for o in overrides],
        profile=profile,
        cwd=home,
        env=env,
    )


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load(tmp_path / "does-not-exist")
    assert config.model == DEFAULT_MODEL
    assert config.model_provider_id == "openai"
    assert config.model_provider.name == "OpenAI"
    assert config.features.enabled("shell_tool")
    assert config.feature_warnings == []
    assert config.approval_policy == "on-request"
    assert config.sandbox_mode == "read-only"
    assert config.model_reasoning_summary == "auto"
    assert config.cli_auth_credentials_store == "file"
    assert config.config_path == tmp_path / "does-not-exist" / "config.toml"
    assert config.base_instructions is None


def test_codex_home_from_env(tmp_path: Path) -> None:
    write(tmp_path, 'model = "gpt-5.2"\n')
    config = load_config(env={"CODEX_HOME": str(tmp_path)}, cwd=tmp_path)
    assert config.codex_home == tmp_path
    assert config.model == "gpt-5.2"


def test_known_keys_read_and_unknown_top_level_keys_tolerated(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
model = "gpt-5.1-codex-max"
model_reasoning_effort = "high"
model_reasoning_summary = "concise"
model_verbosity = "low"
approval_policy = "never"
sandbox_mode = "workspace-write"
web_search = "live"
model_context_window = 200000
model_auto_compact_token_limit = 150000
tool_output_token_limit = 5000
developer_instructions = "Use tabs."
forced_login_method = "api"
cli_auth_credentials_store = "keyring"
some_future_key = { nested = [1, 2] }
file_opener = "vscode"

[otel]
environment = "prod"
exporter = { otlp-http = { endpoint = "http://collector" } }

[mcp_servers.docs]
command = "docs-server"

[tui]
notifications = true
""",
    )
    config = load(tmp_path)
    assert config.model == "gpt-5.1-codex-max"
    assert config.model_reasoning_effort == "high"
    assert config.model_reasoning_summary == "concise"
    assert config.model_verbosity == "low"
    assert config.approval_policy == "never"
    assert config.sandbox_mode == "workspace-write"
    assert config.web_search == "live"
    assert config.developer_instructions == "Use tabs."
    assert config.forced_login_method == "api"
    assert config.cli_auth_credentials_store == "keyring"
    assert config.otel["environment"] == "prod"
    info, warning = config.model_info()
    assert warning is None
    assert info.context_window == 200_000
    assert info.auto_compact_token_limit == 150_000
    assert info.truncation_policy.limit == 5000


def test_malformed_toml_is_one_line_with_file_line_col(tmp_path: Path) -> None:
    path = write(tmp_path, 'model = "gpt-5"\napproval_policy = = "never"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:2:")
    assert "invalid TOML" in message
    assert "move the file away" in message


def test_unterminated_string_reports_position(tmp_path: Path) -> None:
    path = write(tmp_path, 'a = 1\nmodel = "gpt-5\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert str(info.value).startswith(f"{path}:")
    assert "\n" not in str(info.value)


def test_wrong_type_names_key_file_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, 'model_context_window = "big"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "`model_context_window`" in message
    assert str(path) in message
    assert "an integer" in message
    assert "Fix" in message
    assert "\n" not in message
    assert "pydantic" not in message


def test_wrong_type_in_provider_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[model_providers.mock]\nname = "Mock"\nrequest_max_retries = "five"\n',
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "model_providers.mock.request_max_retries" in message
    assert str(path) in message and "\n" not in message


def test_wrong_type_from_override_names_override(tmp_path: Path) -> None:
    write(tmp_path, 'model = "gpt-5.1"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "model_context_window=lots")
    message = str(info.value)
    assert "`model_context_window`" in message
    assert "-c override" in message
    assert "config.toml" not in message
    assert "\n" not in message


def test_bad_enum_lists_choices(tmp_path: Path) -> None:
    write(tmp_path, 'sandbox_mode = "yolo"\n')
    with pytest.raises(ConfigError, match=r"read-only.*workspace-write.*danger-full-access"):
        load(tmp_path)


def test_wrong_type_in_profile(tmp_path: Path) -> None:
    write(tmp_path, "[profiles.fast]\nmodel_context_window = true\n")
    with pytest.raises(ConfigError, match=r"profiles\.fast\.model_context_window"):
        load(tmp_path)


def test_provider_typo_reported(tmp_path: Path) -> None:
    write(tmp_path, '[model_providers.mock]\nname = "Mock"\nbase_ulr = "http://h"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "base_ulr" in message and "model_providers.mock" in message and "\n" not in message


def test_chat_wire_api_reported(tmp_path: Path) -> None:
    write(tmp_path, '[model_providers.old]\nname = "Old"\nwire_api = "chat"\n')
    with pytest.raises(ConfigError, match=r'only "responses"'):
        load(tmp_path)


def test_user_provider_added_and_selected(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
model_provider = "mock"
[model_providers.mock]
name = "Mock"
base_url = "http://127.0.0.1:9999/v1"
env_key = "MOCK_KEY"
stream_max_retries = 0
""",
    )
    config = load(tmp_path)
    assert config.model_provider_id == "mock"
    assert config.model_provider.base_url == "http://127.0.0.1:9999/v1"
    assert config.model_provider.stream_max_retries_effective() == 0
    assert set(config.model_providers) == {"openai", "emulator", "mock"}


def test_provider_name_defaults_to_id(tmp_path: Path) -> None:
    config = load(
        tmp_path, 'model_providers.local={base_url="http://h/v1"}', "model_provider=local"
    )
    assert config.model_provider.name == "local"


def test_user_table_merges_over_built_in(tmp_path: Path) -> None:
    write(tmp_path, "[model_providers.openai]\nrequest_max_retries = 2\n")
    config = load(tmp_path, "model_providers.emulator.base_url=http://127.0.0.1:4321/v1")
    openai = config.model_providers["openai"]
    assert openai.name == "OpenAI" and openai.requires_openai_auth
    assert openai.request_max_retries_effective() == 2
    assert openai.env_http_headers is not None
    emulator = config.model_providers["emulator"]
    assert emulator.base_url == "http://127.0.0.1:4321/v1"
    assert emulator.name == "codex-engine emulator"
    assert emulator.supports_websockets


def test_openai_base_url(tmp_path: Path) -> None:
    write(tmp_path, 'openai_base_url = "http://proxy/v1"\n')
    assert load(tmp_path).model_provider.responses_url() == "http://proxy/v1/responses"
    env_only = load(tmp_path / "other", OPENAI_BASE_URL="http://env/v1")
    assert env_only.model_provider.base_url == "http://env/v1"


def test_unknown_provider_error_text(tmp_path: Path) -> None:
    path = write(tmp_path, 'model_provider = "ollama"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "'ollama'" in message
    assert "emulator, openai" in message
    assert "[model_providers.ollama]" in message
    assert str(path) in message
    assert "\n" not in message


def test_unknown_provider_from_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="-c override"):
        load(tmp_path, "model_provider=nope")


def test_profiles(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
model = "gpt-5.1-codex"
approval_policy = "untrusted"
profile = "fast"

[features]
shell_tool = false

[profiles.fast]
model = "gpt-5.1-codex-mini"
model_reasoning_effort = "low"

[profiles.deep]
model = "gpt-5.1-codex-max"
features = { shell_tool = true }
""",
    )
    fast = load(tmp_path)
    assert fast.profile == "fast"
    assert fast.model == "gpt-5.1-codex-mini"
    assert fast.model_reasoning_effort == "low"
    assert fast.approval_policy == "untrusted"
    assert not fast.features.enabled("shell_tool")

    deep = load(tmp_path, profile="deep")
    assert deep.model == "gpt-5.1-codex-max"
    assert deep.features.enabled("shell_tool")

    # -c beats the profile, for plain keys and for features.
    cli = load(tmp_path, "model=gpt-5.2", "features.shell_tool=false", profile="deep")
    assert cli.model == "gpt-5.2"
    assert not cli.features.enabled("shell_tool")

    via_override = load(tmp_path, "profile=deep")
    assert via_override.model == "gpt-5.1-codex-max"


def test_unknown_profile(tmp_path: Path) -> None:
    write(tmp_path, '[profiles.fast]\nmodel = "gpt-5.1-codex-mini"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path, profile="slow")
    message = str(info.value)
    assert "'slow'" in message and "fast" in message and "\n" not in message


def test_feature_warnings_and_enable_flags(tmp_path: Path) -> None:
    write(tmp_path, "[features]\nmystery = true\nweb_search_request = true\n")
    config = load(tmp_path, "features.runtime_metrics=true")
    assert config.features.enabled("runtime_metrics")
    warnings = config.feature_warnings
    assert "unknown feature key in config: mystery" in warnings
    assert any("web_search_request" in w and "deprecated" in w for w in warnings)
    assert any("Under-development" in w and "runtime_metrics" in w for w in warnings)
    assert config.web_search == "live"


def test_suppress_unstable_warning(tmp_path: Path) -> None:
    write(tmp_path, "suppress_unstable_features_warning = true\n")
    config = load(tmp_path, "features.responses_websockets=true")
    assert config.features.enabled("responses_websockets")
    assert config.feature_warnings == []


def test_non_boolean_feature_is_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[features]\nshell_tool = "on"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "features.shell_tool" in str(info.value) and str(path) in str(info.value)


def test_web_search_explicit_beats_legacy(tmp_path: Path) -> None:
    write(tmp_path, 'web_search = "disabled"\n[features]\nweb_search_cached = true\n')
    assert load(tmp_path).web_search == "disabled"
    write(tmp_path, "[features]\nweb_search_cached = true\nweb_search_request = true\n")
    assert load(tmp_path).web_search == "cached"


def test_experimental_instructions_file(tmp_path: Path) -> None:
    (tmp_path / "prompt.md").write_text("Custom system prompt.\n", encoding="utf-8")
    write(tmp_path, 'experimental_instructions_file = "prompt.md"\n')
    config = load(tmp_path)
    assert config.base_instructions == "Custom system prompt.\n"
    info, _ = config.model_info()
    assert info.base_instructions == "Custom system prompt.\n"


def test_instructions_file_missing_or_empty(tmp_path: Path) -> None:
    write(tmp_path, 'experimental_instructions_file = "missing.md"\n')
    with pytest.raises(ConfigError, match=r"missing\.md.*experimental_instructions_file"):
        load(tmp_path)
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    write(tmp_path, 'experimental_instructions_file = "empty.md"\n')
    with pytest.raises(ConfigError, match="empty"):
        load(tmp_path)


def test_base_instructions_string_wins(tmp_path: Path) -> None:
    (tmp_path / "prompt.md").write_text("from file", encoding="utf-8")
    write(tmp_path, 'base_instructions = "inline"\nexperimental_instructions_file = "prompt.md"\n')
    assert load(tmp_path).base_instructions == "inline"


def test_default_model_info_uses_bundled_prompt(tmp_path: Path) -> None:
    info, warning = load(tmp_path).model_info()
    assert warning is None
    assert info.slug == DEFAULT_MODEL
    assert info.base_instructions == default_base_instructions()


def test_unknown_model_warning_via_config(tmp_path: Path) -> None:
    info, warning = load(tmp_path, "model=local-llm", "model_context_window=32000").model_info()
    assert warning is not None and "local-llm" in warning
    assert info.used_fallback_model_metadata
    assert info.context_window == 32_000


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path)
    with pytest.raises(AttributeError):
        config.model = "x"  # type: ignore[misc]
