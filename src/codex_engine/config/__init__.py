"""Configuration: config.toml loading, `-c` overrides, providers, feature flags, model catalog.

Reads local files only; nothing here touches the network.
"""

from codex_engine.config.catalog import (
    DEFAULT_MODEL,
    ModelInfo,
    find_model_info,
    list_models,
)
from codex_engine.config.features import Features, FeatureSpec, Stage
from codex_engine.config.loader import Config, load_config
from codex_engine.config.overrides import (
    apply_overrides,
    feature_toggle,
    parse_override,
    parse_overrides,
)
from codex_engine.config.providers import ModelProviderInfo, built_in_providers

__all__ = [
    "DEFAULT_MODEL",
    "Config",
    "FeatureSpec",
    "Features",
    "ModelInfo",
    "ModelProviderInfo",
    "Stage",
    "apply_overrides",
    "built_in_providers",
    "feature_toggle",
    "find_model_info",
    "list_models",
    "load_config",
    "parse_override",
    "parse_overrides",
]
