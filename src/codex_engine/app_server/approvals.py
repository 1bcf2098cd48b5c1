"""Command approvals of one thread: ask the client with ``item/commandExecution/requestApproval``.

The client's answer becomes a :data:`Decision`; "accept for session" is remembered per command
for the life of the thread. While a request waits, the thread reports ``waitingOnApproval``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from codex_engine.app_server.connection import ConnectionClosedError, Peer
from codex_engine.app_server.projector import command_actions, command_text
from codex_engine.core.session import ApprovalRequest
from codex_engine.protocol.app_server_types import (
    CommandExecutionRequestApprovalParams,
    ServerRequestResolvedNotification,
)
from codex_engine.protocol.jsonrpc import JsonRpcError

__all__ = ["ClientApprovals", "Decision", "decision_of"]

log = logging.getLogger(__name__)

#: What an answer means for the command: run it, run it (and its repeats), skip it, or skip it
#: and end the turn.
Decision = Literal["accept", "acceptForSession", "decline", "cancel"]


def decision_of(answer: Any) -> Decision:
    """The client's ``decision`` field as one of four outcomes; anything unknown declines."""
    if answer in ("accept", "acceptForSession", "decline", "cancel"):
        return answer  # type: ignore[no-any-return]
    if isinstance(answer, dict) and (
        "acceptWithExecpolicyAmendment" in answer or "applyNetworkPolicyAmendment" in answer
    ):
        return "accept"
    log.warning("unknown approval decision %r; treating it as decline", answer)
    return "decline"


class ClientApprovals:
    """Asks the client about commands for one thread and remembers session-wide approvals."""

    def __init__(self, peer: Peer, on_waiting_changed: Callable[[], Awaitable[None]]) -> None:
        self._peer = peer
        self._on_waiting_changed = on_waiting_changed
        self.approved_for_session: set[tuple[str, ...]] = set()
        #: Requests sent and not answered yet (the thread is ``waitingOnApproval`` meanwhile).
        self.waiting = 0

    async def ask(self, request: ApprovalRequest, *, thread_id: str, turn_id: str) -> Decision:
        key = tuple(request.command)
        if key in self.approved_for_session:
            return "accept"
        peer = self._peer
        if not peer.can_ask:
            log.warning(
                "declined %s: the client can no longer answer approval requests", request.call_id
            )
            return "decline"
        params = CommandExecutionRequestApprovalParams(
            thread_id=thread_id,
            turn_id=turn_id,
            item_id=request.call_id,
            started_at_ms=int(time.time() * 1000),
            command=command_text(request.command),
            cwd=str(request.cwd),
            reason=request.reason,
            command_actions=command_actions(request.command),
        ).to_wire()
        request_id = peer.next_request_id()
        self.waiting += 1
        await self._on_waiting_changed()
        answer: Any = "decline"
        try:
            result = await peer.request(
                "item/commandExecution/requestApproval", params, request_id=request_id
            )
            answer = result.get("decision") if isinstance(result, dict) else None
        except (JsonRpcError, ConnectionClosedError) as exc:
            log.warning("approval request for %s got no decision: %s", request.call_id, exc)
        finally:
            self.waiting -= 1
            resolved = ServerRequestResolvedNotification(thread_id=thread_id, request_id=request_id)
            if not peer.closed:
                await peer.notify("serverRequest/resolved", resolved.to_wire())
                await self._on_waiting_changed()
        decision = decision_of(answer)
        if decision == "acceptForSession":
            self.approved_for_session.add(key)
        return decision
