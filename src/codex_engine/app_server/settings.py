"""Thread settings as the wire spells them: config overrides, cwd, sandbox policies, turn changes.

Shared by ``thread/start``, ``thread/resume``, ``thread/fork`` (settings of a new session) and
``turn/start`` (changes for the turns that follow). Raises InvalidParamsError on what it refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from codex_engine.app_server import history
from codex_engine.app_server.context import ServerContext
from codex_engine.app_server.registry import InvalidParamsError
from codex_engine.config.catalog import ModelInfo
from codex_engine.config.loader import Config, SandboxMode
from codex_engine.config.overrides import Override
from codex_engine.core.launch import settings_from_config
from codex_engine.core.settings import SessionSettings, SettingsChange
from codex_engine.protocol.app_server import (
    ThreadResumeParams,
    ThreadStartParams,
    TurnStartParams,
)
from codex_engine.protocol.app_server.notifications import (
    ThreadSettings,
    ThreadSettingsUpdatedNotification,
)

if TYPE_CHECKING:
    from codex_engine.app_server.state import ThreadState

__all__ = [
    "POLICY_TO_MODE",
    "load_settings",
    "resolve_cwd",
    "sandbox_policy",
    "settings_from_history",
    "stored_cwd",
    "thread_overrides",
    "thread_settings_note",
    "turn_changes",
]

T = TypeVar("T")

_GRANULAR_POLICY = (
    "granular `approvalPolicy` is not supported yet in codex-engine; use untrusted, on-request "
    "or never"
)

#: ``sandboxPolicy.type`` -> the sandbox mode config.toml spells.
POLICY_TO_MODE: dict[str, SandboxMode] = {
    "dangerFullAccess": "danger-full-access",
    "workspaceWrite": "workspace-write",
    "readOnly": "read-only",
}


def sandbox_policy(mode: str, network: bool = False) -> dict[str, Any]:
    """The ``SandboxPolicy`` object of a sandbox mode."""
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        return {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": network,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "readOnly", "networkAccess": network}


def resolve_cwd(raw: str | None) -> Path:
    """The absolute directory a request names (the server's cwd when it names none).

    Like the reference, a directory that does not exist (yet) is accepted as it is named: the
    thread reports it and the model is told it; commands run there fail until it exists.
    """
    cwd = Path(raw).expanduser() if raw else Path.cwd()
    return (cwd if cwd.is_absolute() else Path.cwd() / cwd).resolve()


def thread_overrides(p: ThreadStartParams | ThreadResumeParams) -> list[Override]:
    """The params' ``config`` map and named settings, as config overrides."""
    overrides: list[Override] = []
    for key, value in (p.config or {}).items():
        path = [part for part in key.split(".") if part]
        if not path:
            raise InvalidParamsError(f"`config` key {key!r} is empty")
        overrides.append((path, value))
    if isinstance(p.approval_policy, dict):
        raise InvalidParamsError(_GRANULAR_POLICY)
    named: list[tuple[str, Any]] = [
        ("model", p.model),
        ("model_provider", p.model_provider),
        ("approval_policy", p.approval_policy),
        ("sandbox_mode", p.sandbox),
        ("base_instructions", p.base_instructions),
        ("developer_instructions", p.developer_instructions),
    ]
    overrides += [([key], value) for key, value in named if value is not None]
    return overrides


def settings_from_history(
    p: ThreadResumeParams, stored: history.StoredThread, overrides: list[Override]
) -> None:
    """A resumed or forked thread goes on with its last turn's model and effort unless told."""
    if p.model is None and stored.model:
        overrides.insert(0, (["model"], stored.model))
    if stored.reasoning_effort and not any(o[0] == ["model_reasoning_effort"] for o in overrides):
        overrides.insert(0, (["model_reasoning_effort"], stored.reasoning_effort))


def stored_cwd(p: ThreadResumeParams, stored: history.StoredThread) -> Path:
    """The params' cwd, else the recorded one if it still exists, else the server's."""
    if p.cwd is not None:
        return resolve_cwd(p.cwd)
    recorded = Path(stored.meta.cwd) if stored.meta.cwd else None
    if recorded is not None and recorded.is_dir():
        return recorded.resolve()
    return resolve_cwd(None)


def load_settings(
    ctx: ServerContext, overrides: list[Override], cwd: Path
) -> tuple[Config, SessionSettings, str | None]:
    """Config and session settings (ConfigError answers -32600), and the unknown-model warning."""
    config = ctx.load_config(overrides, cwd=cwd)
    settings, model_warning = settings_from_config(config, cwd=cwd)
    return config, settings, model_warning


def turn_changes(
    p: TurnStartParams, config: Config, s: SessionSettings
) -> tuple[SettingsChange, str | None]:
    """The session setting changes a turn/start asks for (they stay for later turns)."""
    warning: str | None = None
    model_info: ModelInfo | None = None
    if p.model is not None and p.model != s.model_info.slug:
        model_info, warning = msgspec.structs.replace(config, model=p.model).model_info()
    cwd = resolve_cwd(p.cwd) if p.cwd is not None else None
    if isinstance(p.approval_policy, dict):
        raise InvalidParamsError(_GRANULAR_POLICY)
    mode: SandboxMode | None = None
    network: bool | None = None
    if p.sandbox_policy is not None:
        kind = str(p.sandbox_policy.get("type"))
        mode = POLICY_TO_MODE.get(kind)
        if mode is None:
            raise InvalidParamsError(
                f"`sandboxPolicy.type` {kind!r} is not supported in codex-engine; use readOnly, "
                "workspaceWrite or dangerFullAccess"
            )
        wanted = p.sandbox_policy.get("networkAccess")
        network = wanted if isinstance(wanted, bool) else None
    change = SettingsChange(
        model_info=model_info,
        reasoning_effort=_changed(p.effort, s.reasoning_effort),
        reasoning_summary=_changed(p.summary, s.reasoning_summary),
        cwd=_changed(cwd, s.cwd),
        approval_policy=_changed(p.approval_policy, s.approval_policy),
        sandbox_mode=_changed(mode, s.sandbox_mode),
        network_access=_changed(network, s.network_access),
    )
    return change, warning


def _changed(new: T | None, current: T) -> T | None:
    """``new`` if it differs from the current value, else ``None`` (no change)."""
    return new if new is not None and new != current else None


def thread_settings_note(thread: ThreadState) -> dict[str, Any]:
    """``thread/settings/updated`` for the thread's settings as they are now."""
    s = thread.settings
    settings = ThreadSettings(
        cwd=str(s.cwd),
        approval_policy=s.approval_policy,
        approvals_reviewer=thread.approvals_reviewer,
        sandbox_policy=sandbox_policy(s.sandbox_mode, s.network_access),
        model=s.model_info.slug,
        model_provider=thread.config.model_provider_id,
        effort=s.reasoning_effort,
        summary=s.reasoning_summary,
        collaboration_mode={
            "mode": "default",
            "settings": {
                "model": s.model_info.slug,
                "reasoning_effort": s.reasoning_effort,
                "developer_instructions": s.developer_instructions,
            },
        },
    )
    note = ThreadSettingsUpdatedNotification(thread_id=thread.id, thread_settings=settings)
    return note.to_wire()
