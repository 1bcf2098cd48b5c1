"""`-c key=value` parsing and merging."""

from __future__ import annotations

from typing import Any

import pytest

from codex_engine.config.overrides import (
    apply_overrides,
    feature_toggle,
    format_key_path,
    parse_override,
    parse_overrides,
)
from codex_engine.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "path", "value"),
    [
        ("x=1", ["x"], 1),
        ("x=true", ["x"], True),
        ('x="s"', ["x"], "s"),
        ("x=[1,2]", ["x"], [1, 2]),
        ("x=1.5", ["x"], 1.5),
        (
            'x={name="mock", base_url="http://h/v1"}',
            ["x"],
            {"name": "mock", "base_url": "http://h/v1"},
        ),
        ("model=gpt-5.1-codex", ["model"], "gpt-5.1-codex"),
        (
            "model_providers.mock.base_url=http://127.0.0.1:9/v1",
            ["model_providers", "mock", "base_url"],
            "http://127.0.0.1:9/v1",
        ),
        (" model = 'o3' ", ["model"], "o3"),
        ("model='gpt-5", ["model"], "gpt-5"),
        ("x=", ["x"], ""),
        ("x=a=b", ["x"], "a=b"),
        ('model_providers."my.provider".name=P', ["model_providers", "my.provider", "name"], "P"),
        ("x=1\ny = 2", ["x"], "1\ny = 2"),
    ],
)
def test_parse_override_table(raw: str, path: list[str], value: Any) -> None:
    assert parse_override(raw) == (path, value)


def test_missing_equals_names_flag_and_form() -> None:
    with pytest.raises(ConfigError) as info:
        parse_override("model")
    message = str(info.value)
    assert "-c model" in message
    assert "key=value" in message
    assert "\n" not in message


@pytest.mark.parametrize("raw", ["=1", "a..b=1", ".a=1"])
def test_bad_keys_rejected(raw: str) -> None:
    with pytest.raises(ConfigError):
        parse_override(raw)


def test_parse_overrides_keeps_order() -> None:
    assert parse_overrides(["a=1", "a=2"]) == [(["a"], 1), (["a"], 2)]


def test_apply_creates_nested_tables_and_does_not_mutate_input() -> None:
    table: dict[str, Any] = {"model": "m", "model_providers": {"x": {"name": "X"}}}
    result = apply_overrides(
        table,
        [
            (["model_providers", "x", "base_url"], "http://x"),
            (["model_providers", "y", "name"], "Y"),
            (["model"], "n"),
        ],
    )
    assert result == {
        "model": "n",
        "model_providers": {"x": {"name": "X", "base_url": "http://x"}, "y": {"name": "Y"}},
    }
    assert table == {"model": "m", "model_providers": {"x": {"name": "X"}}}


def test_apply_table_value_replaces_and_scalar_in_the_way_becomes_table() -> None:
    table: dict[str, Any] = {"p": {"a": 1, "b": 2}, "s": "text"}
    result = apply_overrides(table, [(["p"], {"c": 3}), (["s", "k"], True)])
    assert result == {"p": {"c": 3}, "s": {"k": True}}


def test_later_override_wins() -> None:
    assert apply_overrides({}, [(["a"], 1), (["a"], 2)]) == {"a": 2}


def test_feature_toggle_equals_features_override() -> None:
    assert feature_toggle("shell_tool", False) == (["features", "shell_tool"], False)
    assert feature_toggle("runtime_metrics", True) == parse_override(
        "features.runtime_metrics=true"
    )
    with pytest.raises(ConfigError):
        feature_toggle(" ", True)


def test_format_key_path() -> None:
    assert (
        format_key_path(["model_providers", "mock", "base_url"]) == "model_providers.mock.base_url"
    )
    assert format_key_path(["a", "b.c", 0]) == 'a."b.c"[0]'
