"""Which tools a session offers the model, and which toolset carries out each call (by name).

The tools are listed in one place, :meth:`ToolDispatcher.__init__`: the built-in ``shell``, the
hosted ``web_search``, ``apply_patch`` (also intercepted in shell commands), the goal tools, then
the extra toolsets the session was given (``SessionDeps.toolsets``).
A new kind of tool is a :class:`~codex_engine.core.tools.toolset.Toolset` added there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from codex_engine.core.goals import GoalBook
from codex_engine.core.sandbox import SandboxSupport
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import ApplyPatchTool
from codex_engine.core.tools.goals import GoalToolset
from codex_engine.core.tools.shell_call import ShellTool
from codex_engine.core.tools.toolset import ToolContext, Toolset, call_name
from codex_engine.core.web_search import resolve_web_search_mode, web_search_tool
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["HostedWebSearch", "ToolContext", "ToolDispatcher", "Toolset"]


class HostedWebSearch:
    """``web_search``, when the settings allow it: the API runs it, so no call comes here."""

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        mode = resolve_web_search_mode(settings.web_search, sandbox_mode=settings.sandbox_mode)
        hosted = web_search_tool(mode)
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
        shell: bool = True,
        goals: GoalBook | None = None,
    ) -> None:
        # Without ``shell`` (feature ``shell_tool`` off) the tool is neither offered nor run: a
        # call to it is answered like any unknown tool.
        self.shell = shell
        builtin: tuple[Toolset, ...] = (ShellTool(sandbox),) if shell else ()
        # The goal tools (``get_goal``, ``create_goal``, ``update_goal``) act on ``goals``.
        goal_tools: tuple[Toolset, ...] = (GoalToolset(goals),) if goals is not None else ()
        self.toolsets: tuple[Toolset, ...] = (
            *builtin,
            HostedWebSearch(),
            ApplyPatchTool(),
            *goal_tools,
            *extra,
        )

    async def prepare(self) -> list[str]:
        """Every toolset made ready for a turn's first request; their problems, in order."""
        problems = await asyncio.gather(*(toolset.prepare() for toolset in self.toolsets))
        return [problem for found in problems for problem in found]

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [spec for toolset in self.toolsets for spec in toolset.specs(settings)]

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        """The output for one call; a name no toolset handles is told to the model as such."""
        name = call_name(call)
        for toolset in self.toolsets:
            if toolset.handles(name):
                return await toolset.call(call, ctx)
        hint = "; use `shell`" if self.shell else ""
        return FunctionCallOutput(
            call_id=call.call_id, output=f"unsupported tool {call.name!r}{hint}"
        )

    async def call_all(
        self, calls: Sequence[FunctionCall], ctx: ToolContext, *, parallel: bool
    ) -> list[FunctionCallOutput]:
        """The outputs of a response's calls, in call order; run together when ``parallel``."""
        if parallel and len(calls) > 1:
            return list(await asyncio.gather(*(self.call(call, ctx) for call in calls)))
        return [await self.call(call, ctx) for call in calls]
