"""Validation failures of config tables (msgspec) read as one line: the key path (dict keys and
array indexes included, which msgspec's own path leaves out), the source, the expectation with
the value found, and the fix."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from codex_engine.config import load_config, parse_override
from codex_engine.config.catalog import ModelInfo
from codex_engine.config.mcp_servers import HttpTransport, StdioTransport
from codex_engine.config.shell_environment import ShellEnvironmentPolicy
from codex_engine.errors import ConfigError

IN_FILE = "Fix it in FILE or remove the key."

CASES = [
    (
        'model_context_window = "big"\n',
        (),
        "invalid value for `model_context_window` (FILE): expected an integer, "
        f'got "big". {IN_FILE}',
    ),
    (
        "model_context_window = 0\n",
        (),
        "invalid value for `model_context_window` (FILE): expected an integer greater than 0, "
        f"got 0. {IN_FILE}",
    ),
    (
        "project_doc_max_bytes = -1\n",
        (),
        f"invalid value for `project_doc_max_bytes` (FILE): expected an integer >= 0, got -1. "
        f"{IN_FILE}",
    ),
    (
        "model_supports_reasoning_summaries = 1\n",
        (),
        "invalid value for `model_supports_reasoning_summaries` (FILE): expected true or false, "
        f"got 1. {IN_FILE}",
    ),
    (
        'sandbox_mode = "yolo"\n',
        (),
        'invalid value for `sandbox_mode` (FILE): expected one of "read-only", '
        f'"workspace-write" or "danger-full-access", got "yolo". {IN_FILE}',
    ),
    (
        'project_doc_fallback_filenames = ["a", 3]\n',
        (),
        "invalid value for `project_doc_fallback_filenames[1]` (FILE): expected a string, "
        f"got 3. {IN_FILE}",
    ),
    (
        '[profiles.ok]\nmodel = "m"\n[profiles."a.b"]\nmodel = 3\n',
        (),
        f'invalid value for `profiles."a.b".model` (FILE): expected a string, got 3. {IN_FILE}',
    ),
    (
        "profiles = { fast = 3 }\n",
        (),
        f"invalid value for `profiles.fast` (FILE): expected a table, got 3. {IN_FILE}",
    ),
    (
        '[model_providers.b]\nname = "y"\nhttp_headers = { "X-A" = "1", "X B" = 2 }\n',
        (),
        'invalid value for `model_providers.b.http_headers."X B"` (FILE): expected a string, '
        f"got 2. {IN_FILE}",
    ),
    (
        '[shell_environment_policy]\nset = { "A B" = "ok", C = 1 }\n',
        (),
        "invalid value for `shell_environment_policy.set.C` (FILE): expected a string, got 1. "
        f"{IN_FILE}",
    ),
    (
        '[model_providers.old]\nname = "Old"\nwire_api = 3\n',
        (),
        'invalid value for `model_providers.old.wire_api` (FILE): wire_api = "3" is not '
        'supported; only "responses" (the Responses API) is supported: set wire_api = '
        '"responses" or remove the key',
    ),
    (
        'model_providers = { x = { name = "x", "_chatgpt_base_url" = "http://x" } }\n',
        (),
        "unknown key `_chatgpt_base_url` in [model_providers.x] (FILE); known keys: name, "
        "base_url, env_key, env_key_instructions, experimental_bearer_token, wire_api, "
        "query_params, http_headers, env_http_headers, request_max_retries, stream_max_retries, "
        "stream_idle_timeout_ms, websocket_connect_timeout_ms, requires_openai_auth, "
        "supports_websockets. Fix the spelling or remove it from FILE.",
    ),
    (
        '[model_providers.mock]\nname = "Mock"\n',
        ('model_providers.mock.request_max_retries="a"',),
        "invalid value for `model_providers.mock.request_max_retries` (-c override): "
        'expected an integer, got "a". Fix the -c value.',
    ),
    (
        'model = "m"\n',
        ("shell_environment_policy.inherit=3",),
        "invalid value for `shell_environment_policy.inherit` (-c override): expected one of "
        '"all", "core" or "none", got 3. Fix the -c value.',
    ),
]


@pytest.mark.parametrize(("text", "overrides", "expected"), CASES)
def test_each_refused_value_is_one_exact_line(
    tmp_path: Path, text: str, overrides: tuple[str, ...], expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(
            codex_home=tmp_path,
            overrides=[parse_override(o) for o in overrides],
            cwd=tmp_path,
            env={},
        )
    assert str(info.value) == expected.replace("FILE", str(path))


def test_catalog_entries_are_checked_strictly() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.priority"):
        ModelInfo.from_dict({"slug": "m", "display_name": "m", "priority": "1"})
    with pytest.raises(msgspec.ValidationError, match=r"\$\.supports_parallel_tool_calls"):
        ModelInfo.from_dict({"slug": "m", "display_name": "m", "supports_parallel_tool_calls": 1})
    with pytest.raises(msgspec.ValidationError, match="display_name"):
        ModelInfo.from_dict({"slug": "m"})


def test_nested_unknown_catalog_fields_round_trip() -> None:
    entry = {
        "slug": "m",
        "display_name": "M",
        "upgrade": {"model": "n", "retirement_at": 17},
        "truncation_policy": {"mode": "tokens", "limit": 5, "unit": "t"},
        "supported_reasoning_levels": [{"effort": "low", "shortcut": "l"}],
        "base_instructions": "x",
    }
    info = ModelInfo.from_dict(entry)
    assert info.upgrade is not None and info.upgrade.extra == {"retirement_at": 17}
    dumped = info.to_dict()
    assert dumped["upgrade"] == {"model": "n", "migration_markdown": None, "retirement_at": 17}
    assert dumped["truncation_policy"] == {"mode": "tokens", "limit": 5, "unit": "t"}
    assert dumped["supported_reasoning_levels"] == [
        {"effort": "low", "description": "", "shortcut": "l"}
    ]
    assert ModelInfo.from_dict(dumped) == info


def test_secret_holding_fields_stay_out_of_repr() -> None:
    shown = [
        repr(StdioTransport("srv", env={"TOKEN": "s3cret-env"})),
        repr(HttpTransport("http://h", http_headers={"Authorization": "s3cret-header"})),
        repr(ShellEnvironmentPolicy(set_vars={"API_TOKEN": "s3cret-policy"})),
    ]
    assert all("s3cret" not in text for text in shown), shown
    assert "command='srv'" in shown[0] and "url='http://h'" in shown[1]
