"""``model/list``: the catalog as the app-server shows it."""

from __future__ import annotations

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "ModelInfoWire",
    "ModelListParams",
    "ModelListResponse",
    "ReasoningEffortOption",
]


class ModelListParams(_Params):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    include_hidden: bool | None = None


class ReasoningEffortOption(_Out):
    reasoning_effort: str
    description: str


class ModelInfoWire(_Out):
    """One ``model/list`` entry (the schema's ``Model``)."""

    id: str
    model: str
    upgrade: str | None = None
    display_name: str
    description: str
    hidden: bool
    supported_reasoning_efforts: list[ReasoningEffortOption]
    default_reasoning_effort: str
    input_modalities: list[str]
    supports_personality: bool = False
    is_default: bool


class ModelListResponse(_Out):
    data: list[ModelInfoWire]
    next_cursor: str | None = None
