"""MCP servers' tools as the session's tools: their specs, approval, the call and its output.

The session asks :class:`McpToolset` which specs to offer, whether a call is its own, and to
run it; everything MCP-specific stays here and in ``codex_engine.mcp``. Approval follows the
reference: no question in full-access mode (approval ``never`` with ``danger-full-access``) or
for a tool whose annotations say it only reads (``readOnlyHint``, or neither destructive nor
open-world); otherwise the reviewer is asked, and with approval policy ``never`` the call is
refused. ``approval_mode`` in config (``approve``/``prompt``) overrides the annotations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from codex_engine.config.loader import ApprovalPolicy, SandboxMode
from codex_engine.core.approvals import (
    ApprovalRequest,
    ApprovalsReviewer,
    Approver,
    McpToolApproval,
    is_automatic_reviewer,
)
from codex_engine.core.events import McpToolCallFinished, McpToolCallStarted, TurnEvent
from codex_engine.core.tools import mcp_resources
from codex_engine.core.tools.mcp_output import error_output, result_output, wire_result
from codex_engine.core.tools.toolset import ToolContext, call_name
from codex_engine.mcp.errors import McpCallError
from codex_engine.mcp.manager import McpManager, McpTool
from codex_engine.mcp.schema import sanitize_input_schema
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

if TYPE_CHECKING:
    from codex_engine.core.settings import SessionSettings

__all__ = ["McpCallPolicy", "McpToolset", "requires_approval"]

Emit = Callable[[TurnEvent], None]

NEVER_REFUSAL = "MCP tool call requires approval, but approval policy is never"
USER_DECLINED = "user rejected MCP tool call"
AUTO_DECLINED = (
    "the automatic approval reviewer declined it: an MCP tool call that may change things runs "
    "outside the sandbox; ask the user to review approvals (approvalsReviewer 'user')"
)


class McpCallPolicy(msgspec.Struct, frozen=True):
    """What the session's settings say about running a call, and who can be asked."""

    approval_policy: ApprovalPolicy
    sandbox_mode: SandboxMode
    reviewer: ApprovalsReviewer
    approver: Approver | None
    cwd: Path
    supports_images: bool

    @classmethod
    def of(
        cls, settings: SessionSettings, reviewer: ApprovalsReviewer, approver: Approver | None
    ) -> McpCallPolicy:
        return cls(
            approval_policy=settings.approval_policy,
            sandbox_mode=settings.sandbox_mode,
            reviewer=reviewer,
            approver=approver,
            cwd=settings.cwd,
            supports_images="image" in settings.model_info.input_modalities,
        )


def requires_approval(annotations: Any) -> bool:
    """The reference's rule: destructive asks; read-only does not; unknown hints ask."""

    def hint(name: str) -> bool | None:
        value = getattr(annotations, name, None) if annotations is not None else None
        return value if isinstance(value, bool) else None

    if hint("destructive_hint") is True:
        return True
    if hint("read_only_hint") is True:
        return False
    destructive, open_world = hint("destructive_hint"), hint("open_world_hint")
    return (destructive is None or destructive) or (open_world is None or open_world)


# A namespaced call (`mcp__srv` + `tool`) names the same tool as the flat name.
_qualified = call_name


def _arguments(raw: str) -> dict[str, Any] | None:
    """The call's JSON arguments (empty means none); ValueError for anything else."""
    if not raw.strip():
        return None
    value = json.loads(raw)
    if value is not None and not isinstance(value, dict):
        raise ValueError("arguments must be a JSON object")
    return value


class McpToolset:
    """One session's MCP tools, backed by its :class:`McpManager`."""

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    async def prepare(self) -> list[str]:
        """Wait for servers still starting (each within its timeout); startup warnings, once."""
        await self.manager.wait_started()
        return self.manager.take_warnings()

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        """Function tools for the ready servers' tools, then the resource tools."""
        specs: list[dict[str, object]] = [
            {
                "type": "function",
                "name": entry.name,
                "description": entry.tool.description or "",
                "strict": False,
                "parameters": sanitize_input_schema(entry.tool.input_schema),
            }
            for entry in self.manager.tools().values()
        ]
        if self.manager.connections:
            specs.extend(mcp_resources.SPECS)
        return specs

    def handles(self, name: str) -> bool:
        if name in mcp_resources.NAMES and self.manager.connections:
            return True
        return name in self.manager.tools()

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        policy = McpCallPolicy.of(ctx.settings, ctx.approvals_reviewer, ctx.approver)
        emit = ctx.emit
        if call.name in mcp_resources.NAMES:
            return await mcp_resources.run_resource_tool(self.manager, call, emit)
        entry = self.manager.tools()[_qualified(call)]
        start = time.monotonic()
        try:
            arguments = _arguments(call.arguments)
        except ValueError as exc:
            # Not shown as a call: the model gets the parse error, as the reference answers.
            return FunctionCallOutput(call_id=call.call_id, output=f"err: {exc}")
        emit(McpToolCallStarted(call.call_id, entry.server, entry.tool.name, arguments))
        refusal = await self._approval(call.call_id, entry, arguments, policy)
        result: dict[str, Any] | None = None
        error: str | None = refusal
        if refusal is None:
            result, error = await self._call(entry, arguments)
        duration = time.monotonic() - start
        emit(
            McpToolCallFinished(
                call.call_id, entry.server, entry.tool.name, arguments, duration, result, error
            )
        )
        if result is not None:
            output = result_output(result, duration, supports_images=policy.supports_images)
        else:
            output = error_output(error or "tool call failed", duration)
        return FunctionCallOutput(call_id=call.call_id, output=output)

    async def _call(
        self, entry: McpTool, arguments: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        connection = self.manager.ready(entry.server)
        try:
            if connection is None:
                raise McpCallError(f"MCP server `{entry.server}` is not running")
            answer = await connection.call_tool(entry.tool.name, arguments)
        except McpCallError as exc:
            reason = f"tool call failed for `{entry.server}/{entry.tool.name}`"
            return None, f"tool call error: {reason}\n\nCaused by:\n    {exc}"
        return wire_result(answer), None

    async def _approval(
        self,
        call_id: str,
        entry: McpTool,
        arguments: dict[str, Any] | None,
        policy: McpCallPolicy,
    ) -> str | None:
        """Why the call may not run (told to the model), or ``None`` to run it."""
        if policy.approval_policy == "never" and policy.sandbox_mode == "danger-full-access":
            return None
        config = self.manager.configs[entry.server]
        mode = config.approval_mode(entry.tool.name)
        if mode == "approve":
            return None
        if mode != "prompt" and not requires_approval(entry.tool.annotations):
            return None
        if policy.approval_policy == "never" or policy.approver is None:
            return NEVER_REFUSAL
        if is_automatic_reviewer(policy.reviewer):
            return AUTO_DECLINED
        approved = await policy.approver(
            ApprovalRequest(
                call_id,
                [entry.name],
                policy.cwd,
                f'Allow the {entry.server} MCP server to run tool "{entry.tool.name}"?',
                sandbox_mode=policy.sandbox_mode,
                mcp_tool=McpToolApproval(
                    entry.server,
                    entry.tool.name,
                    arguments,
                    title=entry.tool.title,
                    description=entry.tool.description,
                ),
            )
        )
        return None if approved else USER_DECLINED
