"""Configuration methods: ``config/read``, ``config/value/write``, ``config/batchWrite``,
``configRequirements/read``, ``experimentalFeature/*``, ``permissionProfile/list`` and
``modelProvider/capabilities/read``."""

from typing import Annotated, Any, Literal

import msgspec

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params

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
    "FeatureStage",
    "ModelProviderCapabilitiesReadResponse",
    "OverriddenMetadata",
    "PermissionProfileListParams",
    "PermissionProfileListResponse",
    "PermissionProfileSummary",
]

MergeStrategy = Literal["replace", "upsert"]
FeatureStage = Literal["beta", "underDevelopment", "stable", "deprecated", "removed"]


class ConfigReadParams(_Params, frozen=True, kw_only=True):
    #: Accepted for compatibility; codex-engine has no project config layers to resolve.
    cwd: str | None = None
    include_layers: bool = False


class ConfigWire(msgspec.Struct, kw_only=True, dict=True):
    """The effective config as config.toml spells it (snake_case keys, any key kept)."""

    # ``dict=True``: from_table keeps the undeclared keys in the instance's __dict__, and
    # to_wire sends them after the declared ones.

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

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> "ConfigWire":
        """The declared keys checked (a TOML string of digits reads as a number), others kept."""
        declared = set(cls.__struct_fields__)
        wire = msgspec.convert({k: v for k, v in table.items() if k in declared}, cls, strict=False)
        wire.__dict__["extra"] = {k: v for k, v in table.items() if k not in declared}
        return wire

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = msgspec.to_builtins(self)
        wire.update(msgspec.to_builtins(self.__dict__.get("extra", {})))
        return wire


class ConfigLayerMetadata(_Out, kw_only=True):
    #: ``{"type": "user", "file": ..., "profile": ...}`` or ``{"type": "sessionFlags"}``.
    name: dict[str, Any]
    version: str


class ConfigLayer(ConfigLayerMetadata, kw_only=True):
    config: dict[str, Any]
    disabled_reason: str | None = None


class ConfigReadResponse(_Out, kw_only=True):
    config: ConfigWire
    #: Dotted key of each configured value -> the layer it comes from.
    origins: dict[str, ConfigLayerMetadata]
    #: Highest precedence first; only with ``includeLayers``.
    layers: list[ConfigLayer] | None = None

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        wire["config"] = self.config.to_wire()
        return wire


class ConfigEditParams(_Params, frozen=True, kw_only=True):
    key_path: str
    #: Any JSON value; ``null`` removes the key.
    value: Any
    merge_strategy: MergeStrategy


class ConfigValueWriteParams(ConfigEditParams, frozen=True, kw_only=True):
    #: Only the user's config.toml may be written; defaults to it.
    file_path: str | None = None
    #: The ``version`` last read; the write is refused if the file changed since.
    expected_version: str | None = None


class ConfigBatchWriteParams(_Params, frozen=True, kw_only=True):
    edits: list[ConfigEditParams]
    file_path: str | None = None
    expected_version: str | None = None


class OverriddenMetadata(_Out, kw_only=True):
    message: str
    overriding_layer: ConfigLayerMetadata
    effective_value: Any


class ConfigWriteResponse(_Out, kw_only=True):
    status: Literal["ok", "okOverridden"]
    version: str
    file_path: str
    overridden_metadata: OverriddenMetadata | None = None


class ConfigRequirementsReadResponse(_Out, kw_only=True):
    #: codex-engine reads no requirements.toml or managed (MDM) policy.
    requirements: dict[str, Any] | None = None


class ExperimentalFeatureListParams(_Params, frozen=True, kw_only=True):
    cursor: str | None = None
    limit: Annotated[int, NonNegative] | None = None
    thread_id: str | None = None


class ExperimentalFeatureWire(_Out, kw_only=True):
    name: str
    stage: FeatureStage
    display_name: str | None = None
    description: str | None = None
    announcement: str | None = None
    enabled: bool
    default_enabled: bool


class ExperimentalFeatureListResponse(_Out, kw_only=True):
    data: list[ExperimentalFeatureWire]
    next_cursor: str | None = None


class ExperimentalFeatureEnablementSetParams(_Params, frozen=True, kw_only=True):
    enablement: dict[str, bool]


class ExperimentalFeatureEnablementSetResponse(_Out, kw_only=True):
    enablement: dict[str, bool]


class PermissionProfileListParams(_Params, frozen=True, kw_only=True):
    cursor: str | None = None
    cwd: str | None = None
    limit: Annotated[int, NonNegative] | None = None


class PermissionProfileSummary(_Out, kw_only=True):
    id: str
    description: str | None = None
    allowed: bool


class PermissionProfileListResponse(_Out, kw_only=True):
    data: list[PermissionProfileSummary]
    next_cursor: str | None = None


class ModelProviderCapabilitiesReadResponse(_Out, kw_only=True):
    image_generation: bool
    web_search: bool
