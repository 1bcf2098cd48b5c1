"""``model/list``: the model catalog, paged, with the configured model marked as default."""

from __future__ import annotations

from typing import Any

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.pagination import CursorError, offset_page
from codex_engine.app_server.registry import InvalidParamsError, method
from codex_engine.config.catalog import DEFAULT_MODEL, ModelInfo, list_models
from codex_engine.errors import ConfigError
from codex_engine.protocol.app_server.models import (
    ModelAvailabilityNux,
    ModelInfoWire,
    ModelListParams,
    ModelListResponse,
    ModelServiceTier,
    ModelUpgradeInfo,
    ReasoningEffortOption,
)


def model_wire(info: ModelInfo, default_slug: str) -> ModelInfoWire:
    levels = [
        ReasoningEffortOption(reasoning_effort=level.effort, description=level.description)
        for level in info.supported_reasoning_levels
    ]
    default_effort = info.default_reasoning_level or (
        levels[0].reasoning_effort if levels else "none"
    )
    extra = info.extra
    upgrade = info.upgrade
    nux = extra.get("availability_nux")
    return ModelInfoWire(
        id=info.slug,
        model=info.slug,
        upgrade=upgrade.model if upgrade is not None else None,
        upgrade_info=None
        if upgrade is None
        else ModelUpgradeInfo(
            model=upgrade.model,
            migration_markdown=upgrade.migration_markdown,
            retirement_at=upgrade.extra.get("retirement_at"),
        ),
        availability_nux=ModelAvailabilityNux(message=nux["message"])
        if isinstance(nux, dict) and isinstance(nux.get("message"), str)
        else None,
        display_name=info.display_name,
        description=info.description or "",
        hidden=info.visibility != "list",
        supported_reasoning_efforts=levels,
        default_reasoning_effort=default_effort,
        input_modalities=list(info.input_modalities),
        model_specialty=extra.get("model_specialty"),
        multi_agent_version=extra.get("multi_agent_version"),
        additional_speed_tiers=list(extra.get("additional_speed_tiers") or []),
        service_tiers=[ModelServiceTier(**tier) for tier in extra.get("service_tiers") or []],
        default_service_tier=extra.get("default_service_tier"),
        is_default=info.slug == default_slug,
    )


@method("model/list", ModelListParams)
async def model_list(ctx: ServerContext, p: ModelListParams, reply: Reply) -> Any:
    try:
        default = ctx.load_config().model
    except ConfigError:
        default = DEFAULT_MODEL
    models = list_models(visible_only=not p.include_hidden)
    try:
        page = offset_page(models, cursor=p.cursor, limit=p.limit)
    except CursorError:
        raise InvalidParamsError(f"`cursor` {p.cursor!r} is not one this server gave") from None
    return ModelListResponse(
        data=[model_wire(m, default) for m in page.items], next_cursor=page.next_cursor
    ).to_wire()
