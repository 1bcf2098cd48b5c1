"""Configuration methods: ``config/read``, ``config/value/write``, ``config/batchWrite``,
``configRequirements/read``, ``experimentalFeature/*``, ``permissionProfile/list`` and
``modelProvider/capabilities/read``."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "ConfigBatchWriteParams",
    "ConfigEditParams",
    "ConfigLayer",
    "ConfigLayerMetadata",
    "ConfigReadParams",
    "ConfigReadResponse",
    "ConfigRequirementsReadResponse",
    "ConfigValueWriteParams",
    "ConfigWire",
    "ConfigWriteResponse",
    "ExperimentalFeatureEnablementSetParams",
    "ExperimentalFeatureEnablementSetResponse",
    "ExperimentalFeatureListParams",
    "ExperimentalFeatureListResponse",
    "ExperimentalFeatureWire",
    "ModelProviderCapabilitiesReadResponse",
    "OverriddenMetadata",
    "PermissionProfileListParams",
    "PermissionProfileListResponse",
    "PermissionProfileSummary",
]

MergeStrategy = Literal["replace", "upsert"]


class ConfigReadParams(_Params):
    #: Accepted for compatibility; codex-engine has no project config layers to resolve.
    cwd: str | None = None
    include_layers: bool = False


class ConfigWire(BaseModel):
    """The effective config as config.toml spells it (snake_case keys, any key kept)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    model: str | None = None
    model_provider: str | None = None
    approval_policy: str | None = None
    sandbox_mode: str | None = None
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None
    model_context_window: int | None = None
    model_auto_compact_token_limit: int | None = None
    developer_instructions: str | None = None
    web_search: str | None = None
    forced_login_method: str | None = None
    forced_chatgpt_workspace_id: str | None = None
    features: dict[str, bool] | None = None


class ConfigLayerMetadata(_Out):
    #: ``{"type": "user", "file": ..., "profile": ...}`` or ``{"type": "sessionFlags"}``.
    name: dict[str, Any]
    version: str


class ConfigLayer(ConfigLayerMetadata):
    config: dict[str, Any]
    disabled_reason: str | None = None


class ConfigReadResponse(_Out):
    config: ConfigWire
    #: Dotted key of each configured value -> the layer it comes from.
    origins: dict[str, ConfigLayerMetadata]
    #: Highest precedence first; only with ``includeLayers``.
    layers: list[ConfigLayer] | None = None


class ConfigEditParams(_Params):
    key_path: str
    #: Any JSON value; ``null`` removes the key.
    value: Any
    merge_strategy: MergeStrategy


class ConfigValueWriteParams(ConfigEditParams):
    #: Only the user's config.toml may be written; defaults to it.
    file_path: str | None = None
    #: The ``version`` last read; the write is refused if the file changed since.
    expected_version: str | None = None


class ConfigBatchWriteParams(_Params):
    edits: list[ConfigEditParams]
    file_path: str | None = None
    expected_version: str | None = None


class OverriddenMetadata(_Out):
    message: str
    overriding_layer: ConfigLayerMetadata
    effective_value: Any


class ConfigWriteResponse(_Out):
    status: Literal["ok", "okOverridden"]
    version: str
    file_path: str
    overridden_metadata: OverriddenMetadata | None = None


class ConfigRequirementsReadResponse(_Out):
    #: codex-engine reads no requirements.toml or managed (MDM) policy.
    requirements: dict[str, Any] | None = None


class ExperimentalFeatureListParams(_Params):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    thread_id: str | None = None


class ExperimentalFeatureWire(_Out):
    name: str
    stage: Literal["beta", "underDevelopment", "stable", "deprecated", "removed"]
    display_name: str | None = None
    description: str | None = None
    announcement: str | None = None
    enabled: bool
    default_enabled: bool


class ExperimentalFeatureListResponse(_Out):
    data: list[ExperimentalFeatureWire]
    next_cursor: str | None = None


class ExperimentalFeatureEnablementSetParams(_Params):
    enablement: dict[str, bool]


class ExperimentalFeatureEnablementSetResponse(_Out):
    enablement: dict[str, bool]


class PermissionProfileListParams(_Params):
    cursor: str | None = None
    cwd: str | None = None
    limit: int | None = Field(default=None, ge=0)


class PermissionProfileSummary(_Out):
    id: str
    description: str | None = None
    allowed: bool


class PermissionProfileListResponse(_Out):
    data: list[PermissionProfileSummary]
    next_cursor: str | None = None


class ModelProviderCapabilitiesReadResponse(_Out):
    image_generation: bool
    web_search: bool
