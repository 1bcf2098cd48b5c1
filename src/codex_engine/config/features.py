"""Feature flags: the registry, their stages, and resolution from config layers (SPEC §9).

Precedence: registry defaults < `[features]` < `[profiles.<p>.features]` < CLI overrides.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

import msgspec

from codex_engine.errors import ConfigError

__all__ = [
    "FEATURES",
    "FeatureSpec",
    "Features",
    "Stage",
    "feature_spec",
]


class Stage(Enum):
    """How far along a feature is; decides warnings and the beta header."""

    UNDER_DEVELOPMENT = "under_development"
    EXPERIMENTAL = "experimental"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    REMOVED = "removed"

    @property
    def description(self) -> str:
        """One line for `features list` and help output."""
        return _STAGE_DESCRIPTIONS[self]


_STAGE_DESCRIPTIONS: dict[Stage, str] = {
    Stage.UNDER_DEVELOPMENT: "incomplete; may change or misbehave, off unless you turn it on",
    Stage.EXPERIMENTAL: "usable preview; feedback welcome, may still change",
    Stage.STABLE: "finished; the flag stays for turning it off if needed",
    Stage.DEPRECATED: "kept for old configs; use the replacement instead",
    Stage.REMOVED: "no longer has any effect; safe to delete from your config",
}


class FeatureSpec(msgspec.Struct, frozen=True):
    """One registry entry. `replacement` names what to use instead of a deprecated key."""

    key: str
    stage: Stage
    default_enabled: bool
    description: str
    replacement: str | None = None


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "responses_websockets",
        Stage.UNDER_DEVELOPMENT,
        False,
        "Talk to the Responses API over a WebSocket when the provider supports it.",
    ),
    FeatureSpec(
        "responses_websockets_v2",
        Stage.UNDER_DEVELOPMENT,
        False,
        "Talk to the Responses API over a WebSocket with the v2 protocol (incremental "
        "follow-ups on one connection); the only protocol this engine speaks, so the same as "
        "`responses_websockets`.",
    ),
    FeatureSpec(
        "websocket_preconnect",
        Stage.STABLE,
        True,
        "Open the WebSocket handshake when a session starts, so the first turn does not wait "
        "for it.",
    ),
    FeatureSpec(
        "enable_request_compression",
        Stage.STABLE,
        True,
        "Compress request bodies with zstd when talking to the ChatGPT backend.",
    ),
    FeatureSpec(
        "runtime_metrics",
        Stage.UNDER_DEVELOPMENT,
        False,
        "Ask the server for its timing of each response (WebSocket) and record it in the "
        "runtime summary and metrics.",
    ),
    FeatureSpec(
        "shell_tool",
        Stage.STABLE,
        True,
        "Give the model the shell tool for running commands.",
    ),
    FeatureSpec(
        "unified_exec",
        Stage.STABLE,
        # On, as in the reference 0.163: every model runs commands with exec_command unless its
        # catalog entry says `shell_type = "disabled"`. Off: `shell_command` or `shell` (by the
        # entry's `shell_type`).
        True,
        "Run the model's commands with exec_command/write_stdin (processes that keep running "
        "between calls, in a PTY if asked) instead of the shell tool.",
    ),
    FeatureSpec(
        "goals",
        Stage.STABLE,
        True,
        "Give the model the goal tools (get_goal, create_goal, update_goal) and clients the "
        "thread/goal methods, for objectives pursued across turns.",
    ),
    FeatureSpec(
        "default_mode_request_user_input",
        Stage.UNDER_DEVELOPMENT,
        False,
        "Let request_user_input ask the user in the default collaboration mode (app-server: "
        "item/tool/requestUserInput) instead of refusing the call.",
    ),
    # Kept only so configs that still set them get a warning instead of an unknown-key notice.
    FeatureSpec(
        "shell_snapshot",
        Stage.REMOVED,
        False,
        "Login-shell environment snapshots; not implemented by this engine.",
    ),
    FeatureSpec(
        "remote_models",
        Stage.REMOVED,
        False,
        "Server-side model catalog refresh; not implemented by this engine.",
    ),
    FeatureSpec(
        "web_search_request",
        Stage.DEPRECATED,
        False,
        "Old switch for live web search.",
        replacement="web_search",
    ),
    FeatureSpec(
        "web_search_cached",
        Stage.DEPRECATED,
        False,
        "Old switch for cached web search.",
        replacement="web_search",
    ),
    FeatureSpec(
        "chat_completions_wire_api",
        Stage.REMOVED,
        False,
        "The Chat Completions wire protocol; only the Responses API is supported now.",
    ),
)

_BY_KEY: dict[str, FeatureSpec] = {spec.key: spec for spec in FEATURES}


def feature_spec(key: str) -> FeatureSpec:
    """The registry entry for `key`; KeyError for unknown keys (a bug in the caller)."""
    return _BY_KEY[key]


def _replacement_hint(spec: FeatureSpec) -> str:
    if spec.replacement == "web_search":
        return (
            'set the top-level `web_search` key to "live", "cached" or "disabled" '
            "(or under a profile) instead"
        )
    if spec.replacement:
        return f"use `[features].{spec.replacement}` instead"
    return "remove it from your config"


class Features(msgspec.Struct, frozen=True):
    """The effective set of enabled feature keys. Immutable; build it with `resolve`."""

    _enabled: frozenset[str]

    @classmethod
    def defaults(cls) -> Features:
        """Every feature at its registry default."""
        return cls(frozenset(s.key for s in FEATURES if s.default_enabled))

    @classmethod
    def resolve(
        cls,
        table: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        profile_table: Mapping[str, Any] | None = None,
        profile_name: str | None = None,
        suppress_unstable_warning: bool = False,
        config_path: str = "config.toml",
    ) -> tuple[Features, list[str]]:
        """Apply `[features]`, the profile's features, then CLI overrides over the defaults.

        Returns the features and user-facing warnings (unknown, deprecated, removed and
        under-development keys). A non-boolean value raises ConfigError naming the key.
        """
        enabled = {s.key for s in FEATURES if s.default_enabled}
        warnings: list[str] = []
        seen_notices: set[str] = set()
        turned_on: list[str] = []

        def notice(text: str) -> None:
            if text not in seen_notices:
                seen_notices.add(text)
                warnings.append(text)

        profile_source = (
            f"[profiles.{profile_name}.features] in {config_path}"
            if profile_name
            else f"profile features in {config_path}"
        )
        layers: list[tuple[Mapping[str, Any] | None, str]] = [
            (table, f"[features] in {config_path}"),
            (profile_table, profile_source),
            (overrides, "a -c/--enable/--disable override"),
        ]
        for layer, source in layers:
            if not layer:
                continue
            for key, value in layer.items():
                if not isinstance(value, bool):
                    raise ConfigError(
                        f"invalid value for `features.{key}` in {source}: expected true or "
                        f"false, got {_short_repr(value)}; write `{key} = true` or `{key} = false`"
                    )
                spec = _BY_KEY.get(key)
                if spec is None:
                    notice(f"unknown feature key in config: {key}")
                    continue
                if spec.stage is Stage.REMOVED:
                    notice(
                        f"feature `{key}` was removed and is ignored; "
                        "you can delete it from your config"
                    )
                    continue
                if spec.stage is Stage.DEPRECATED:
                    notice(f"`[features].{key}` is deprecated: {_replacement_hint(spec)}.")
                if value:
                    enabled.add(key)
                    if spec.stage is Stage.UNDER_DEVELOPMENT and key not in turned_on:
                        turned_on.append(key)
                else:
                    enabled.discard(key)
                    if key in turned_on:
                        turned_on.remove(key)

        if turned_on and not suppress_unstable_warning:
            warnings.append(
                f"Under-development features enabled: {', '.join(turned_on)}. They are "
                "incomplete and may misbehave. To hide this warning, set "
                f"`suppress_unstable_features_warning = true` in {config_path}."
            )
        return cls(frozenset(enabled)), warnings

    def enabled(self, key: str) -> bool:
        """Whether `key` is on. KeyError for keys not in the registry (catches typos in code)."""
        if key not in _BY_KEY:
            raise KeyError(f"unknown feature key: {key}")
        return key in self._enabled

    def with_overrides(self, overrides: Mapping[str, bool]) -> Features:
        """A copy with some keys forced on/off (e.g. per-thread settings); unknown keys ignored."""
        enabled = set(self._enabled)
        for key, value in overrides.items():
            spec = _BY_KEY.get(key)
            if spec is None or spec.stage is Stage.REMOVED:
                continue
            if value:
                enabled.add(key)
            else:
                enabled.discard(key)
        return Features(frozenset(enabled))

    def websockets_enabled(self) -> bool:
        """Whether a WebSocket feature asks for the WebSocket transport (v1 or v2 key: this
        engine speaks v2 either way)."""
        return self.enabled("responses_websockets") or self.enabled("responses_websockets_v2")

    def enabled_keys(self) -> list[str]:
        """Enabled keys in registry order."""
        return [s.key for s in FEATURES if s.key in self._enabled]

    def items(self) -> Iterator[tuple[str, Stage, bool]]:
        """`(key, stage, effective value)` for every registry entry (``features list`` shows
        all but the removed ones)."""
        for spec in FEATURES:
            yield spec.key, spec.stage, spec.key in self._enabled

    def non_default(self) -> list[tuple[str, bool]]:
        """Keys whose effective value differs from the default (for the feature-state metric)."""
        return [
            (s.key, s.key in self._enabled)
            for s in FEATURES
            if (s.key in self._enabled) != s.default_enabled
        ]

    def beta_header_value(self) -> str | None:
        """Comma-joined enabled EXPERIMENTAL keys for `x-codex-beta-features`; None when empty."""
        keys = [s.key for s in FEATURES if s.stage is Stage.EXPERIMENTAL and s.key in self._enabled]
        return ",".join(keys) if keys else None

    def __iter__(self) -> Iterator[str]:
        return iter(self.enabled_keys())


def _short_repr(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
