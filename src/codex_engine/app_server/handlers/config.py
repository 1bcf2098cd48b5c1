"""Configuration methods: read the layered config, write the user's config.toml (comments and
layout kept, atomically, refused if it changed since it was read), features, permission profiles
and what the model provider can do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from codex_engine.app_server.connection import Reply
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.pagination import CursorError, offset_page
from codex_engine.app_server.registry import InvalidParamsError, NoParams, method
from codex_engine.config.config_file import read_config_file
from codex_engine.config.edit import ConfigEdit, apply_edits, file_version, write_atomically
from codex_engine.config.features import FEATURES, Stage
from codex_engine.config.overrides import apply_overrides
from codex_engine.errors import ConfigError
from codex_engine.protocol.app_server import (
    ConfigBatchWriteParams,
    ConfigEditParams,
    ConfigLayer,
    ConfigLayerMetadata,
    ConfigReadParams,
    ConfigReadResponse,
    ConfigRequirementsReadResponse,
    ConfigValueWriteParams,
    ConfigWire,
    ConfigWriteResponse,
    ExperimentalFeatureEnablementSetParams,
    ExperimentalFeatureEnablementSetResponse,
    ExperimentalFeatureListParams,
    ExperimentalFeatureListResponse,
    ExperimentalFeatureWire,
    ModelProviderCapabilitiesReadResponse,
    OverriddenMetadata,
    PermissionProfileListParams,
    PermissionProfileListResponse,
    PermissionProfileSummary,
)
from codex_engine.protocol.app_server.config import FeatureStage
from codex_engine.protocol.jsonrpc import INVALID_REQUEST, JsonRpcError

#: ``data.config_write_error_code`` of a refused write, as the reference names them.
VERSION_CONFLICT = "configVersionConflict"
VALIDATION_ERROR = "configValidationError"
LAYER_READONLY = "configLayerReadonly"

_STAGES: dict[Stage, FeatureStage] = {
    Stage.UNDER_DEVELOPMENT: "underDevelopment",
    Stage.EXPERIMENTAL: "beta",
    Stage.STABLE: "stable",
    Stage.DEPRECATED: "deprecated",
    Stage.REMOVED: "removed",
}

#: The built-in permission profiles and the sandbox each stands for.
PERMISSION_PROFILES = (
    (":read-only", "Read files anywhere; write nothing (sandbox_mode = read-only)."),
    (":workspace", "Write inside the workspace only (sandbox_mode = workspace-write)."),
    (":danger-full-access", "No sandbox (sandbox_mode = danger-full-access)."),
)


def _write_error(code: str, message: str) -> JsonRpcError:
    return JsonRpcError(INVALID_REQUEST, message, {"config_write_error_code": code})


# -- layers ------------------------------------------------------------------------------------


def _user_path(ctx: ServerContext) -> Path:
    return ctx.codex_home / "config.toml"


def _user_layer(ctx: ServerContext) -> tuple[ConfigLayerMetadata, dict[str, Any]]:
    path = _user_path(ctx)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    name = {"type": "user", "file": str(path), "profile": ctx.options.profile}
    return ConfigLayerMetadata(name=name, version=file_version(raw)), read_config_file(path)


def _flags_layer(ctx: ServerContext) -> tuple[ConfigLayerMetadata, dict[str, Any]] | None:
    """The command line's ``-c`` overrides, when there are any."""
    overrides = [(list(path), value) for path, value in ctx.options.overrides]
    if not overrides:
        return None
    table = apply_overrides({}, overrides)
    digest = hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode()).hexdigest()
    return ConfigLayerMetadata(name={"type": "sessionFlags"}, version=f"sha256:{digest}"), table


def _leaves(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            found.update(_leaves(value, f"{path}."))
        else:
            found[path] = value
    return found


@method("config/read", ConfigReadParams)
async def config_read(ctx: ServerContext, p: ConfigReadParams, reply: Reply) -> Any:
    user_meta, user_table = _user_layer(ctx)
    flags = _flags_layer(ctx)
    layers = [flags, (user_meta, user_table)] if flags is not None else [(user_meta, user_table)]
    origins: dict[str, ConfigLayerMetadata] = {}
    for meta, table in reversed(layers):  # lowest precedence first, so higher ones win
        origins.update(dict.fromkeys(_leaves(table), meta))
    merged = apply_overrides(user_table, [(list(k), v) for k, v in ctx.options.overrides])
    effective = ctx.load_config()
    merged["features"] = {key: enabled for key, _stage, enabled in effective.features.items()}
    merged.setdefault("model", effective.model)
    merged.setdefault("model_provider", effective.model_provider_id)
    return ConfigReadResponse(
        config=ConfigWire.from_table(merged),
        origins=origins,
        layers=[
            ConfigLayer(name=meta.name, version=meta.version, config=table)
            for meta, table in layers
        ]
        if p.include_layers
        else None,
    ).to_wire()


# -- writes ------------------------------------------------------------------------------------


def _write(
    ctx: ServerContext,
    edits: list[ConfigEditParams],
    file_path: str | None,
    expected_version: str | None,
) -> dict[str, Any]:
    path = _user_path(ctx)
    if file_path is not None and Path(file_path).expanduser().resolve() != path.resolve():
        raise _write_error(
            LAYER_READONLY,
            f"only the user config {path} can be written; leave filePath out or name that file",
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    if expected_version is not None and expected_version != file_version(raw):
        raise _write_error(
            VERSION_CONFLICT,
            f"{path} changed since it was read (expectedVersion {expected_version} is not its "
            "version); read it again and retry",
        )
    changes = [ConfigEdit(e.key_path, e.value, upsert=e.merge_strategy == "upsert") for e in edits]
    try:
        text = apply_edits(raw.decode("utf-8"), changes, source=str(path))
    except UnicodeDecodeError:
        raise _write_error(VALIDATION_ERROR, f"{path} is not UTF-8; re-save it as UTF-8") from None
    except ConfigError as exc:
        raise _write_error(VALIDATION_ERROR, str(exc)) from None
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}; check its permissions") from None
    version = file_version(text.encode("utf-8"))
    overridden = _overridden(ctx, [c.parts() for c in changes])
    return ConfigWriteResponse(
        status="okOverridden" if overridden is not None else "ok",
        version=version,
        file_path=str(path),
        overridden_metadata=overridden,
    ).to_wire()


def _overridden(ctx: ServerContext, paths: list[list[str]]) -> OverriddenMetadata | None:
    """When a ``-c`` flag of this server sets what was written, the write does not take effect."""
    flags = _flags_layer(ctx)
    if flags is None:
        return None
    meta, table = flags
    for parts in paths:
        node: Any = table
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            key = ".".join(parts)
            return OverriddenMetadata(
                message=f"`{key}` is written, but this server's -c flag sets it, so that wins",
                overriding_layer=meta,
                effective_value=node,
            )
    return None


@method("config/value/write", ConfigValueWriteParams)
async def config_value_write(ctx: ServerContext, p: ConfigValueWriteParams, reply: Reply) -> Any:
    return _write(ctx, [p], p.file_path, p.expected_version)


@method("config/batchWrite", ConfigBatchWriteParams)
async def config_batch_write(ctx: ServerContext, p: ConfigBatchWriteParams, reply: Reply) -> Any:
    return _write(ctx, list(p.edits), p.file_path, p.expected_version)


@method("configRequirements/read", NoParams)
async def config_requirements_read(ctx: ServerContext, p: NoParams, reply: Reply) -> Any:
    return ConfigRequirementsReadResponse(requirements=None).to_wire()


# -- features, profiles, provider --------------------------------------------------------------


@method("experimentalFeature/list", ExperimentalFeatureListParams)
async def experimental_feature_list(
    ctx: ServerContext, p: ExperimentalFeatureListParams, reply: Reply
) -> Any:
    thread = ctx.threads.get(p.thread_id) if p.thread_id is not None else None
    config = thread.config if thread is not None else ctx.load_config()
    features = [
        ExperimentalFeatureWire(
            name=spec.key,
            stage=_STAGES[spec.stage],
            display_name=spec.key if spec.stage is Stage.EXPERIMENTAL else None,
            description=spec.description if spec.stage is Stage.EXPERIMENTAL else None,
            enabled=config.features.enabled(spec.key),
            default_enabled=spec.default_enabled,
        )
        for spec in FEATURES
    ]
    try:
        page = offset_page(features, cursor=p.cursor, limit=p.limit)
    except CursorError:
        raise InvalidParamsError(f"`cursor` {p.cursor!r} is not one this server gave") from None
    return ExperimentalFeatureListResponse(data=page.items, next_cursor=page.next_cursor).to_wire()


@method("experimentalFeature/enablement/set", ExperimentalFeatureEnablementSetParams)
async def experimental_feature_enablement_set(
    ctx: ServerContext, p: ExperimentalFeatureEnablementSetParams, reply: Reply
) -> Any:
    known = {spec.key for spec in FEATURES}
    unknown = sorted(set(p.enablement) - known)
    if unknown:
        raise InvalidParamsError(
            f"`enablement` names unknown features ({', '.join(unknown)}); "
            "experimentalFeature/list shows the known ones"
        )
    ctx.feature_enablement.update(p.enablement)
    return ExperimentalFeatureEnablementSetResponse(enablement=dict(p.enablement)).to_wire()


@method("permissionProfile/list", PermissionProfileListParams)
async def permission_profile_list(
    ctx: ServerContext, p: PermissionProfileListParams, reply: Reply
) -> Any:
    profiles = [
        PermissionProfileSummary(id=name, description=about, allowed=True)
        for name, about in PERMISSION_PROFILES
    ]
    try:
        page = offset_page(profiles, cursor=p.cursor, limit=p.limit)
    except CursorError:
        raise InvalidParamsError(f"`cursor` {p.cursor!r} is not one this server gave") from None
    return PermissionProfileListResponse(data=page.items, next_cursor=page.next_cursor).to_wire()


@method("modelProvider/capabilities/read", NoParams)
async def model_provider_capabilities_read(ctx: ServerContext, p: NoParams, reply: Reply) -> Any:
    ctx.load_config()  # a broken config answers with what is wrong, as every config method does
    # Every provider speaks the Responses API, which hosts the web_search tool codex-engine
    # offers; codex-engine has no image generation tool.
    return ModelProviderCapabilitiesReadResponse(image_generation=False, web_search=True).to_wire()
