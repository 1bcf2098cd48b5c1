"""Which tools a session offers the model, and which toolset carries out each call (by name).

The tools are listed in one place, :meth:`ToolDispatcher.__init__`: the command tool
(``exec_command`` + ``write_stdin``, ``shell_command`` or ``shell``: :func:`command_tool`
chooses), the hosted ``web_search``, ``apply_patch`` (also intercepted in commands),
``view_image``, ``update_plan``, the goal tools, then the extra toolsets the session was given
(``SessionDeps.toolsets``).
A new kind of tool is a :class:`~codex_engine.core.tools.toolset.Toolset` added there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from codex_engine.core.goals import GoalBook
from codex_engine.core.sandbox import SandboxSupport
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import ApplyPatchTool
from codex_engine.core.tools.goals import GoalToolset
from codex_engine.core.tools.plan import UpdatePlanTool
from codex_engine.core.tools.request_user_input import RequestUserInputTool
from codex_engine.core.tools.shell_call import ShellTool
from codex_engine.core.tools.shell_command import ShellCommandTool
from codex_engine.core.tools.toolset import FreeformToolset, ToolContext, Toolset, call_name
from codex_engine.core.tools.unified_exec import UnifiedExecTool
from codex_engine.core.tools.view_image import ViewImageTool
from codex_engine.core.web_search import resolve_web_search_mode, web_search_tool
from codex_engine.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
)

#: A call the model makes: JSON arguments (function) or raw text (custom/freeform); and its answer.
AnyCall = FunctionCall | CustomToolCall
AnyOutput = FunctionCallOutput | CustomToolCallOutput

__all__ = ["HostedWebSearch", "ToolContext", "ToolDispatcher", "Toolset", "command_tool"]


CommandTool = Literal["shell", "shell_command", "unified_exec"]


def command_tool(settings: SessionSettings) -> CommandTool | None:
    """How the model runs commands, as the reference 0.163 decides it: none with feature
    ``shell_tool`` off or when the model's catalog entry says ``shell_type = "disabled"``;
    else ``unified_exec`` (``exec_command``) while that feature is on (the default). With it off,
    ``shell_command`` for entries whose ``shell_type`` is ``shell_command`` or ``unified_exec``,
    and our argv ``shell`` for ``default``/``local`` ones."""
    shell_type = settings.model_info.shell_type
    if not settings.shell_tool or shell_type == "disabled":
        return None
    if settings.unified_exec:
        return "unified_exec"
    if shell_type in ("shell_command", "unified_exec"):
        return "shell_command"
    return "shell"


class HostedWebSearch:
    """``web_search``, when the settings allow it: the API runs it, so no call comes here."""

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        mode = resolve_web_search_mode(settings.web_search, sandbox_mode=settings.sandbox_mode)
        # The catalog's `web_search_tool_type = "text_and_image"`: results may include images.
        kind = settings.model_info.extra.get("web_search_tool_type")
        types = ("text", "image") if kind == "text_and_image" else ()
        hosted = web_search_tool(mode, content_types=types)
        return [] if hosted is None else [hosted]

    def handles(self, name: str) -> bool:
        return False

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        raise AssertionError("web_search is run by the API, not dispatched")


class ToolDispatcher:
    """A session's tools: their specs in the order the model is offered them, and the dispatch
    of each function call to the first toolset that handles its name."""

    def __init__(
        self,
        *,
        sandbox: SandboxSupport | None = None,
        extra: Sequence[Toolset] = (),
        goals: GoalBook | None = None,
        user_input: RequestUserInputTool | None = None,
    ) -> None:
        self.shell = ShellTool(sandbox)
        self.shell_command = ShellCommandTool(sandbox)
        self.unified_exec = UnifiedExecTool(sandbox)
        # The goal tools (``get_goal``, ``create_goal``, ``update_goal``) act on ``goals``.
        goal_tools: tuple[Toolset, ...] = (GoalToolset(goals),) if goals is not None else ()
        # Offered after the command tool, as the reference orders it.
        asking = user_input or RequestUserInputTool(None, "")
        self.toolsets: tuple[Toolset, ...] = (
            self.shell,
            self.shell_command,
            self.unified_exec,
            asking,
            HostedWebSearch(),
            ApplyPatchTool(),
            ViewImageTool(),
            UpdatePlanTool(),
            *goal_tools,
            *extra,
        )

    def _active(self, settings: SessionSettings) -> list[Toolset]:
        # The command tool not chosen is neither offered nor run: a call to it is answered like
        # any unknown tool.
        chosen = command_tool(settings)
        commands: dict[Toolset, CommandTool] = {
            self.shell: "shell",
            self.shell_command: "shell_command",
            self.unified_exec: "unified_exec",
        }
        return [
            toolset
            for toolset in self.toolsets
            if toolset not in commands or commands[toolset] == chosen
        ]

    async def aclose(self) -> None:
        """End what the tools still run (unified-exec processes): the session is closing."""
        await self.unified_exec.aclose()

    async def prepare(self) -> list[str]:
        """Every toolset made ready for a turn's first request; their problems, in order."""
        problems = await asyncio.gather(*(toolset.prepare() for toolset in self.toolsets))
        return [problem for found in problems for problem in found]

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [spec for toolset in self._active(settings) for spec in toolset.specs(settings)]

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        """The output for one call; a name no toolset handles is told to the model as such."""
        name = call_name(call)
        for toolset in self._active(ctx.settings):
            if toolset.handles(name):
                return await toolset.call(call, ctx)
        chosen = command_tool(ctx.settings)
        hint = {
            "shell": "; use `shell`",
            "shell_command": "; use `shell_command`",
            "unified_exec": "; use `exec_command`",
            None: "",
        }[chosen]
        return FunctionCallOutput(
            call_id=call.call_id, output=f"unsupported tool {call.name!r}{hint}"
        )

    async def call_custom(self, call: CustomToolCall, ctx: ToolContext) -> CustomToolCallOutput:
        """The output for one custom (freeform) call, answered in its own kind."""
        for toolset in self._active(ctx.settings):
            if isinstance(toolset, FreeformToolset) and toolset.handles(call.name):
                return await toolset.call_custom(call, ctx)
        return CustomToolCallOutput(call_id=call.call_id, output=f"unsupported tool {call.name!r}")

    async def _any(self, call: AnyCall, ctx: ToolContext) -> AnyOutput:
        if isinstance(call, CustomToolCall):
            return await self.call_custom(call, ctx)
        return await self.call(call, ctx)

    async def call_all(
        self, calls: Sequence[AnyCall], ctx: ToolContext, *, parallel: bool
    ) -> list[AnyOutput]:
        """The outputs of a response's calls, in call order; run together when ``parallel``."""
        if parallel and len(calls) > 1:
            return list(await asyncio.gather(*(self._any(call, ctx) for call in calls)))
        return [await self._any(call, ctx) for call in calls]
