"""What a session fixes at its start (:class:`SessionSettings`) and the typed change that may
replace some of it between turns (:class:`SettingsChange`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from codex_engine.config.catalog import ModelInfo
from codex_engine.config.loader import ApprovalPolicy, SandboxMode, WebSearchMode
from codex_engine.protocol.request import ReasoningParams

__all__ = ["SessionSettings", "SettingsChange"]

T = TypeVar("T")


class SessionSettings(msgspec.Struct, frozen=True):
    """Everything a session fixes at its start. Turns read it; only a :class:`SettingsChange`
    between turns replaces it."""

    cwd: Path
    model_info: ModelInfo
    base_instructions: str
    approval_policy: ApprovalPolicy = "never"
    sandbox_mode: SandboxMode = "read-only"
    developer_instructions: str | None = None
    #: AGENTS.md (the user's and the project's), wrapped as the model reads them; injected once
    #: at the start of the session's history, so it stays the same across turns and resumes.
    user_instructions: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = "auto"
    verbosity: str | None = None
    #: The environment of the model's commands (``None``: this process's); built by the launcher
    #: from ``shell_environment_policy``. Kept out of ``repr`` since it may hold credentials.
    shell_env: Mapping[str, str] | None = None
    #: ``web_search`` from config; ``None`` means not set, which lets the sandbox decide.
    web_search: WebSearchMode | None = None
    #: Whether sandboxed commands may use the network.
    network_access: bool = False
    #: Feature ``shell_tool``: whether the model is offered the ``shell`` tool at all.
    shell_tool: bool = True
    #: Feature ``unified_exec`` (on by default, as the reference): commands through
    #: ``exec_command``/``write_stdin``; off, the model's catalog ``shell_type`` picks
    #: ``shell_command`` or ``shell`` (:func:`codex_engine.core.tool_dispatch.command_tool`).
    unified_exec: bool = True
    #: Feature ``goals``: whether the model is offered the goal tools (recorded threads only).
    goals: bool = True
    #: Feature ``default_mode_request_user_input``: ``request_user_input`` asks the user in the
    #: default collaboration mode (otherwise the call is refused, as the reference does).
    default_mode_request_user_input: bool = False
    #: Writable roots besides the workspace under ``workspace-write`` (``exec --add-dir``).
    extra_writable_roots: tuple[Path, ...] = ()
    #: ``[tools.update_plan] enabled``: whether the model is offered ``update_plan``.
    update_plan_tool: bool = False

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({shown})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # ``shell_env`` stays out of every repr: it may hold credentials.
        return [
            (name, getattr(self, name)) for name in self.__struct_fields__ if name != "shell_env"
        ]

    def reasoning(self) -> ReasoningParams | None:
        info = self.model_info
        if not info.supports_reasoning_summaries:
            return None
        effort = self.reasoning_effort or info.default_reasoning_level
        return ReasoningParams(effort=effort, summary=self.reasoning_summary)

    def truncation_limit_bytes(self) -> int:
        policy = self.model_info.truncation_policy
        # A token is about four bytes of English text or code.
        return policy.limit * 4 if policy.mode == "tokens" else policy.limit


class SettingsChange(msgspec.Struct, frozen=True, kw_only=True):
    """The settings a caller changes for the turns that follow (``turn/start`` overrides, say);
    a field left ``None`` keeps the session's value. Base instructions stay what the session
    fixed unless ``base_instructions`` is given."""

    model_info: ModelInfo | None = None
    base_instructions: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    cwd: Path | None = None
    approval_policy: ApprovalPolicy | None = None
    sandbox_mode: SandboxMode | None = None
    network_access: bool | None = None

    def __bool__(self) -> bool:
        """Whether it changes anything at all."""
        return any(getattr(self, name) is not None for name in self.__struct_fields__)

    def apply(self, s: SessionSettings) -> SessionSettings:
        """``s`` with the given fields replaced."""
        return msgspec.structs.replace(
            s,
            model_info=_given(self.model_info, s.model_info),
            base_instructions=_given(self.base_instructions, s.base_instructions),
            reasoning_effort=_given(self.reasoning_effort, s.reasoning_effort),
            reasoning_summary=_given(self.reasoning_summary, s.reasoning_summary),
            cwd=_given(self.cwd, s.cwd),
            approval_policy=_given(self.approval_policy, s.approval_policy),
            sandbox_mode=_given(self.sandbox_mode, s.sandbox_mode),
            network_access=_given(self.network_access, s.network_access),
        )


def _given(new: T | None, old: T) -> T:
    return old if new is None else new
