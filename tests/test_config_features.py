"""Feature registry and resolution."""

from __future__ import annotations

from typing import Any

import pytest

from codex_engine.config import features as features_module
from codex_engine.config.features import FEATURES, Features, FeatureSpec, Stage, feature_spec
from codex_engine.errors import ConfigError


def test_registry_entries() -> None:
    expected = {
        "responses_websockets": (Stage.UNDER_DEVELOPMENT, False),
        "responses_websockets_v2": (Stage.UNDER_DEVELOPMENT, False),
        "enable_request_compression": (Stage.STABLE, True),
        "runtime_metrics": (Stage.UNDER_DEVELOPMENT, False),
        "shell_tool": (Stage.STABLE, True),
        # Stable and on, as in the reference 0.163: every model gets exec_command.
        "unified_exec": (Stage.STABLE, True),
        "web_search_request": (Stage.DEPRECATED, False),
        "web_search_cached": (Stage.DEPRECATED, False),
        # not implemented here (the reference has retired remote_models too): kept as removed
        # keys so old configs get a warning, not an unknown-key notice
        "remote_models": (Stage.REMOVED, False),
        "shell_snapshot": (Stage.REMOVED, False),
    }
    for key, (stage, default) in expected.items():
        spec = feature_spec(key)
        assert (spec.stage, spec.default_enabled) == (stage, default)
    assert feature_spec("web_search_cached").replacement == "web_search"
    assert len({s.key for s in FEATURES}) == len(FEATURES)
    assert all(stage.description for stage in Stage)


def test_defaults() -> None:
    features, warnings = Features.resolve()
    assert warnings == []
    assert features == Features.defaults()
    assert features.enabled("shell_tool")
    assert features.enabled("enable_request_compression")
    assert not features.enabled("responses_websockets")
    assert features.beta_header_value() is None
    with pytest.raises(KeyError):
        features.enabled("no_such_feature")


@pytest.mark.parametrize(
    ("table", "profile", "cli", "expected"),
    [
        (None, None, None, False),
        ({"responses_websockets": True}, None, None, True),
        ({"responses_websockets": True}, {"responses_websockets": False}, None, False),
        ({"responses_websockets": False}, {"responses_websockets": True}, None, True),
        (
            {"responses_websockets": True},
            {"responses_websockets": True},
            {"responses_websockets": False},
            False,
        ),
        (None, {"responses_websockets": False}, {"responses_websockets": True}, True),
    ],
)
def test_precedence(
    table: dict[str, Any] | None,
    profile: dict[str, Any] | None,
    cli: dict[str, Any] | None,
    expected: bool,
) -> None:
    features, _ = Features.resolve(
        table, cli, profile_table=profile, suppress_unstable_warning=True
    )
    assert features.enabled("responses_websockets") is expected


def test_stable_can_be_disabled() -> None:
    features, warnings = Features.resolve({"shell_tool": False})
    assert not features.enabled("shell_tool")
    assert warnings == []


def test_unknown_key_warns_once() -> None:
    features, warnings = Features.resolve({"bogus": True}, {"bogus": False})
    assert warnings == ["unknown feature key in config: bogus"]
    assert "bogus" not in list(features)


def test_under_development_warning_and_suppression() -> None:
    _, warnings = Features.resolve(
        {"runtime_metrics": True, "responses_websockets": True}, config_path="/h/config.toml"
    )
    assert len(warnings) == 1
    assert "runtime_metrics" in warnings[0] and "responses_websockets" in warnings[0]
    assert "suppress_unstable_features_warning = true" in warnings[0]
    assert "/h/config.toml" in warnings[0]
    _, quiet = Features.resolve({"runtime_metrics": True}, suppress_unstable_warning=True)
    assert quiet == []
    # Turned on then off again by a later layer: nothing to warn about.
    _, none = Features.resolve({"runtime_metrics": True}, {"runtime_metrics": False})
    assert none == []


def test_deprecated_points_to_replacement_and_stays_effective() -> None:
    features, warnings = Features.resolve({"web_search_cached": True})
    assert features.enabled("web_search_cached")
    assert len(warnings) == 1
    assert "deprecated" in warnings[0] and "`web_search`" in warnings[0]


def test_removed_accepted_and_ignored() -> None:
    removed = next(s.key for s in FEATURES if s.stage is Stage.REMOVED)
    features, warnings = Features.resolve({removed: True})
    assert removed not in list(features)
    assert len(warnings) == 1 and "removed" in warnings[0]


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_non_boolean_is_error_naming_key(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        Features.resolve({"shell_tool": value}, config_path="/h/config.toml")
    message = str(info.value)
    assert "features.shell_tool" in message
    assert "/h/config.toml" in message
    assert "\n" not in message


def test_cli_non_boolean_names_override() -> None:
    with pytest.raises(ConfigError, match="override"):
        Features.resolve(None, {"shell_tool": "on"})


@pytest.fixture
def experimental_feature(monkeypatch: pytest.MonkeyPatch) -> str:
    """A registry with one experimental feature (the engine ships none today)."""
    spec = FeatureSpec("try_me", Stage.EXPERIMENTAL, False, "A preview.")
    monkeypatch.setattr(features_module, "FEATURES", (*FEATURES, spec))
    monkeypatch.setitem(features_module._BY_KEY, spec.key, spec)
    return spec.key


def test_items_and_beta_header(experimental_feature: str) -> None:
    features, _ = Features.resolve({experimental_feature: True})
    items = {key: (stage, value) for key, stage, value in features.items()}
    assert items[experimental_feature] == (Stage.EXPERIMENTAL, True)
    assert items["shell_tool"] == (Stage.STABLE, True)
    assert len(items) == len(features_module.FEATURES)
    assert features.beta_header_value() == experimental_feature
    assert (experimental_feature, True) in features.non_default()


def test_beta_header_only_names_experimental_features() -> None:
    # under-development and stable features are not eligible for the header
    features, _ = Features.resolve(
        {"responses_websockets": True, "runtime_metrics": True, "shell_tool": True}
    )
    assert features.beta_header_value() is None


def test_with_overrides_is_a_copy() -> None:
    base = Features.defaults()
    changed = base.with_overrides({"shell_tool": False, "nope": True})
    assert base.enabled("shell_tool") and not changed.enabled("shell_tool")
