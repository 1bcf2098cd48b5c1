"""What the app-server keeps per loaded thread: its session, its turns and its approvals.

A :class:`ThreadState` talks to the client only through a :class:`Peer` (notify, ask); it knows
nothing of the handlers or of the other threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from typing import Any, Literal

import msgspec

from codex_engine._version import __version__
from codex_engine.app_server import history
from codex_engine.app_server.approvals import ClientApprovals
from codex_engine.app_server.connection import ConnectionClosedError, Peer
from codex_engine.app_server.mcp_approvals import McpApprovals
from codex_engine.app_server.projector import TurnProjector
from codex_engine.config.loader import Config
from codex_engine.core.approvals import ApprovalRequest, ApprovalsReviewer
from codex_engine.core.goals import ThreadGoal
from codex_engine.core.session import Session, SessionSettings, SettingsChange
from codex_engine.protocol.app_server import (
    FunctionCallOutputItem,
    ServerRequestResolvedNotification,
    Thread,
    ThreadItem,
    ThreadStatusChangedNotification,
    ToolRequestUserInputParams,
    Turn,
    TurnError,
    TurnStatus,
    UserMessageItem,
    active_status,
    idle_status,
)
from codex_engine.protocol.app_server.goals import (
    ThreadGoalClearedNotification,
    ThreadGoalUpdatedNotification,
    goal_wire,
)
from codex_engine.protocol.app_server.threads import ThreadEnvironment
from codex_engine.protocol.jsonrpc import JsonRpcError

__all__ = ["THREAD_SOURCE", "ItemsView", "ThreadState", "TurnKind", "TurnRecord"]

log = logging.getLogger(__name__)

#: The session source recorded in rollouts and reported as ``Thread.source``; the reference
#: app-server records threads started by SDK and IDE clients as ``vscode``.
THREAD_SOURCE = "vscode"

ItemsView = Literal["notLoaded", "summary", "full"]
#: ``shell``: a user's shell command (``thread/shellCommand``), run by the app-server itself.
TurnKind = Literal["turn", "compaction", "shell"]


class TurnRecord(msgspec.Struct):
    """One turn (or compaction) this server ran: its projector, its task, how it ended."""

    id: str
    #: What opened the turn: the user's message, or a delivered tool output (none: compaction).
    user_item: UserMessageItem | FunctionCallOutputItem | None
    started_at: int
    projector: TurnProjector
    kind: TurnKind = "turn"
    status: TurnStatus = "inProgress"
    error: TurnError | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    #: Set once the starting request is answered: notifications about the turn come after it.
    responded: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    #: User messages steered into the turn, each with how many of the model's items came
    #: before it (a full view shows them in that order; a summary leaves them out).
    steered: list[tuple[int, UserMessageItem | FunctionCallOutputItem]] = msgspec.field(
        default_factory=list
    )

    #: Setting changes of a turn/start that joined this turn, for the turns after it.
    deferred_changes: list[SettingsChange] = msgspec.field(default_factory=list)

    def steer(self, item: UserMessageItem | FunctionCallOutputItem) -> None:
        # After every item that has started (a running command completes after this message).
        projector = self.projector
        self.steered.append((len(projector.completed) + projector.open_items(), item))

    def to_wire(self, *, items: ItemsView) -> Turn:
        if items == "notLoaded":
            shown: list[ThreadItem] = []
        elif items == "summary" or self.user_item is None:
            shown = list(self.projector.completed)
        else:
            shown = [self.user_item]
            done = self.projector.completed
            start = 0
            for position, steered in self.steered:
                shown += [*done[start:position], steered]
                start = max(start, position)
            shown += done[start:]
        return Turn(
            id=self.id,
            root_turn_id=self.id,
            items=shown,
            items_view=items,
            status=self.status,
            error=self.error,
            started_at=self.started_at,
            completed_at=self.completed_at,
            duration_ms=self.duration_ms,
        )


class ThreadState:
    """One loaded thread: its session, its turns, and the approvals given for the session."""

    def __init__(
        self,
        peer: Peer,
        *,
        config: Config,
        settings: SessionSettings,
        approvals_reviewer: ApprovalsReviewer,
        originator: str,
        ephemeral: bool,
        stored: history.StoredThread | None = None,
    ) -> None:
        self.peer = peer
        self.config = config
        self._settings = settings
        self._approvals_reviewer: ApprovalsReviewer = approvals_reviewer
        self.originator = originator
        self.ephemeral = ephemeral
        self.session: Session | None = None
        self.stack = AsyncExitStack()
        self.created_at = int(time.time())
        self.updated_at = self.created_at
        self.preview = ""
        self.name: str | None = None
        self.forked_from_id: str | None = None
        #: The client's analytics label for the thread (thread/start's ``threadSource``).
        self.thread_source: str | None = None
        #: ``gitInfo`` as ``thread/metadata/update`` last left it; ``None``: the session's own.
        self.git_override: dict[str, Any] | None = None
        #: Turns recorded before this server loaded the thread (resume, fork).
        self.past_turns: list[Turn] = []
        self.turns: list[TurnRecord] = []
        self.active: TurnRecord | None = None
        #: ``request_user_input`` questions sent and not answered yet.
        self.waiting_on_user_input = 0
        self.approvals = ClientApprovals(peer, self.notify_status)
        self.mcp_approvals = McpApprovals(peer)
        if stored is not None:
            self.created_at = stored.created_at
            self.updated_at = stored.updated_at
            self.preview = stored.preview
            self.name = stored.name
            self.forked_from_id = stored.meta.forked_from_id
            self.past_turns = stored.turns

    @property
    def settings(self) -> SessionSettings:
        # The session's settings change between turns (turn/start overrides).
        return self.session.settings if self.session is not None else self._settings

    @property
    def approvals_reviewer(self) -> ApprovalsReviewer:
        """Who decides on commands needing approval: the user (asked here) or the session."""
        return self._approvals_reviewer

    @approvals_reviewer.setter
    def approvals_reviewer(self, reviewer: ApprovalsReviewer) -> None:
        self._approvals_reviewer = reviewer
        if self.session is not None:
            self.session.approvals_reviewer = reviewer

    def attach(self, session: Session) -> None:
        """The session opened for this thread; it decides for automatic reviewers itself."""
        self.session = session
        session.approvals_reviewer = self._approvals_reviewer
        session.goals.listeners.append(self._goal_changed)

    async def _goal_changed(self, goal: ThreadGoal | None, turn_id: str | None) -> None:
        """Announce a goal change, whoever made it (a client, the model, the accounting)."""
        if goal is None:
            cleared = ThreadGoalClearedNotification(thread_id=self.id)
            await self.peer.notify("thread/goal/cleared", cleared.to_wire())
            return
        note = ThreadGoalUpdatedNotification(
            thread_id=self.id, turn_id=turn_id, goal=goal_wire(goal.to_json())
        )
        await self.peer.notify("thread/goal/updated", note.to_wire())

    @property
    def id(self) -> str:
        assert self.session is not None
        return self.session.thread_id

    def rollout_path(self) -> str | None:
        recorder = self.session.recorder if self.session is not None else None
        return str(recorder.path) if recorder is not None else None

    def status(self) -> dict[str, Any]:
        if self.active is None:
            return idle_status()
        return active_status(
            waiting_on_approval=self.approvals.waiting > 0,
            waiting_on_user_input=self.waiting_on_user_input > 0,
        )

    def git_info(self) -> dict[str, Any] | None:
        if self.git_override is not None:
            # thread/metadata/update patched it (all fields null: cleared).
            shown = any(value is not None for value in self.git_override.values())
            return dict(self.git_override) if shown else None
        git = self.session.git_info if self.session is not None else None
        if git is None:
            return None
        return {"sha": git.commit_hash, "branch": git.branch, "originUrl": git.repository_url}

    def to_wire(self, *, include_turns: bool = False) -> Thread:
        turns: list[Turn] = []
        if include_turns:
            turns = [*self.past_turns, *(t.to_wire(items="full") for t in self.turns)]
        return Thread(
            id=self.id,
            session_id=self.id,
            preview=self.preview,
            ephemeral=self.ephemeral,
            path=self.rollout_path(),
            model_provider=self.config.model_provider_id,
            model=self.settings.model_info.slug,
            reasoning_effort=self.settings.reasoning_effort,
            created_at=self.created_at,
            updated_at=self.updated_at,
            status=self.status(),
            cwd=str(self.settings.cwd),
            cli_version=__version__,
            source=THREAD_SOURCE,
            originator=self.originator,
            forked_from_id=self.forked_from_id,
            git_info=self.git_info(),
            name=self.name,
            turns=turns,
            recency_at=self.updated_at,
            thread_source=self.thread_source,
            environments=[self.environment()],
        )

    def environment(self) -> ThreadEnvironment:
        cwd = str(self.settings.cwd)
        return ThreadEnvironment(cwd=cwd, runtime_workspace_roots=[cwd])

    async def notify_status(self) -> None:
        status = ThreadStatusChangedNotification(thread_id=self.id, status=self.status())
        await self.peer.notify("thread/status/changed", status.to_wire())

    async def approve(self, request: ApprovalRequest) -> bool:
        """The session's Approver (see :mod:`~codex_engine.app_server.approvals`)."""
        turn_id = self.active.id if self.active is not None else ""
        if request.mcp_tool is not None:
            action = await self.mcp_approvals.ask(request, thread_id=self.id, turn_id=turn_id)
            return action == "accept"
        decision = await self.approvals.ask(request, thread_id=self.id, turn_id=turn_id)
        if decision == "cancel" and self.session is not None:
            # "cancel" declines and also ends the turn, as the schema describes.
            self.session.interrupt()
        return decision in ("accept", "acceptForSession")

    async def ask_user_input(
        self, call_id: str, questions: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The session's ``request_user_input`` asker: ``item/tool/requestUserInput`` to the
        client (the thread reports ``waitingOnUserInput`` meanwhile); ``None`` without answer."""
        peer = self.peer
        if not peer.can_ask:
            return None
        turn_id = self.active.id if self.active is not None else ""
        params = msgspec.convert(
            {"threadId": self.id, "turnId": turn_id, "itemId": call_id, "questions": questions},
            ToolRequestUserInputParams,
        )
        request_id = peer.next_request_id()
        self.waiting_on_user_input += 1
        await self.notify_status()
        try:
            result = await peer.request(
                "item/tool/requestUserInput", params.to_wire(), request_id=request_id
            )
        except (JsonRpcError, ConnectionClosedError) as exc:
            log.warning("request_user_input %s got no answer: %s", call_id, exc)
            result = None
        finally:
            self.waiting_on_user_input -= 1
            if not peer.closed:
                resolved = ServerRequestResolvedNotification(
                    thread_id=self.id, request_id=request_id
                )
                await peer.notify("serverRequest/resolved", resolved.to_wire())
                await self.notify_status()
        return result if isinstance(result, dict) else None

    def interrupt(self) -> None:
        """Ask the running turn to stop; its task ends it and sends ``turn/completed``."""
        record = self.active
        if record is None:
            return
        if record.kind in ("compaction", "shell"):
            if record.task is not None:
                record.task.cancel()
        elif self.session is not None:
            self.session.interrupt()
