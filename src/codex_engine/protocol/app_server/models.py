"""``model/list``: the catalog as the app-server shows it."""

from typing import Annotated

import msgspec

from codex_engine.protocol.app_server._base import NonNegative, _Out, _Params

__all__ = [
    "ModelAvailabilityNux",
    "ModelInfoWire",
    "ModelListParams",
    "ModelListResponse",
    "ModelServiceTier",
    "ModelUpgradeInfo",
    "ReasoningEffortOption",
]


class ModelListParams(_Params, frozen=True, kw_only=True):
    cursor: str | None = None
    limit: Annotated[int, NonNegative] | None = None
    include_hidden: bool | None = None


class ReasoningEffortOption(_Out, kw_only=True):
    reasoning_effort: str
    description: str


class ModelUpgradeInfo(_Out, kw_only=True):
    model: str
    upgrade_copy: str | None = None
    model_link: str | None = None
    migration_markdown: str | None = None
    retirement_at: int | None = None


class ModelAvailabilityNux(_Out, kw_only=True):
    message: str


class ModelServiceTier(_Out, kw_only=True):
    id: str
    name: str
    description: str


class ModelInfoWire(_Out, kw_only=True):
    """One ``model/list`` entry (the schema's ``Model``)."""

    id: str
    model: str
    upgrade: str | None = None
    upgrade_info: ModelUpgradeInfo | None = None
    availability_nux: ModelAvailabilityNux | None = None
    display_name: str
    description: str
    hidden: bool
    supported_reasoning_efforts: list[ReasoningEffortOption]
    default_reasoning_effort: str
    input_modalities: list[str]
    supports_personality: bool = False
    model_specialty: str | None = None
    multi_agent_version: str | None = None
    additional_speed_tiers: list[str] = msgspec.field(default_factory=list)
    service_tiers: list[ModelServiceTier] = msgspec.field(default_factory=list)
    default_service_tier: str | None = None
    available_access_programs: dict[str, list[str]] | None = None
    is_default: bool


class ModelListResponse(_Out, kw_only=True):
    data: list[ModelInfoWire]
    next_cursor: str | None = None
