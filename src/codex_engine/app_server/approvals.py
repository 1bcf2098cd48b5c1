"""Command and patch approvals of one thread when the user reviews them: ask the client
(``item/commandExecution/requestApproval``, or ``item/fileChange/requestApproval`` for a patch
that writes outside the writable roots).

Automatic reviewers (``approvalsReviewer`` other than ``"user"``) never get here: the session
decides itself (:mod:`codex_engine.core.approvals`) and no request reaches the client. For the
user, ``item/commandExecution/requestApproval`` carries the decisions the client may offer
(``availableDecisions``, as the reference: accept, accept with a command-prefix rule when one
applies, cancel) and that rule (``proposedExecpolicyAmendment``). "Accept for session" and an
accepted prefix rule are remembered for the life of the thread (codex-engine does not write
execpolicy files). While a request waits, the thread reports ``waitingOnApproval``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import msgspec

from codex_engine.app_server.connection import ConnectionClosedError, Peer
from codex_engine.app_server.projector import command_actions, command_text
from codex_engine.core.approvals import ApprovalRequest
from codex_engine.core.tools.shell_script import parse_simple_commands
from codex_engine.protocol.app_server import (
    CommandExecutionRequestApprovalParams,
    ServerRequestResolvedNotification,
)
from codex_engine.protocol.jsonrpc import JsonRpcError

__all__ = [
    "Answer",
    "ClientApprovals",
    "Decision",
    "answer_of",
    "available_decisions",
    "proposed_amendment",
]

log = logging.getLogger(__name__)

#: What an answer means for the command: run it, run it (and its repeats), skip it, or skip it
#: and end the turn.
Decision = Literal["accept", "acceptForSession", "decline", "cancel"]

_SHELLS = frozenset({"bash", "sh", "zsh"})
_AMENDMENT = "acceptWithExecpolicyAmendment"


class Answer(msgspec.Struct, frozen=True):
    decision: Decision
    #: The command prefix the client approved for good (``acceptWithExecpolicyAmendment``).
    prefix: tuple[str, ...] | None = None


def answer_of(answer: Any) -> Answer:
    """The client's ``decision`` field; anything unknown declines."""
    if answer in ("accept", "acceptForSession", "decline", "cancel"):
        return Answer(answer)
    if isinstance(answer, dict) and _AMENDMENT in answer:
        body = answer[_AMENDMENT]
        prefix = body.get("execpolicy_amendment") if isinstance(body, dict) else None
        if isinstance(prefix, list) and prefix and all(isinstance(w, str) for w in prefix):
            return Answer("accept", tuple(prefix))
        return Answer("accept")
    if isinstance(answer, dict) and "applyNetworkPolicyAmendment" in answer:
        return Answer("accept")
    log.warning("unknown approval decision %r; treating it as decline", answer)
    return Answer("decline")


def simple_argv(command: Sequence[str]) -> tuple[str, ...] | None:
    """The one simple command ``command`` runs (looking inside ``bash -lc``), if it is one."""
    if len(command) == 3 and os.path.basename(command[0]) in _SHELLS:
        if command[1] not in ("-c", "-lc"):
            return None
        zsh = os.path.basename(command[0]) == "zsh"
        parsed = parse_simple_commands(command[2], zsh=zsh)
        if parsed is None or len(parsed) != 1 or any(word.expands for word in parsed[0]):
            return None
        return tuple(word.text for word in parsed[0])
    return tuple(command) if command else None


def proposed_amendment(command: Sequence[str]) -> list[str] | None:
    """The prefix rule to offer: the whole simple command, when the command is a single one."""
    argv = simple_argv(command)
    return list(argv) if argv else None


def available_decisions(amendment: Sequence[str] | None) -> list[str | dict[str, Any]]:
    """What the client may answer, in the reference's order for a command approval."""
    decisions: list[str | dict[str, Any]] = ["accept"]
    if amendment:
        decisions.append({_AMENDMENT: {"execpolicy_amendment": list(amendment)}})
    decisions.append("cancel")
    return decisions


class ClientApprovals:
    """Asks the client about commands for one thread and remembers what it approved for good."""

    def __init__(self, peer: Peer, on_waiting_changed: Callable[[], Awaitable[None]]) -> None:
        self._peer = peer
        self._on_waiting_changed = on_waiting_changed
        self.approved_for_session: set[tuple[str, ...]] = set()
        self.approved_prefixes: set[tuple[str, ...]] = set()
        #: Requests sent and not answered yet (the thread is ``waitingOnApproval`` meanwhile).
        self.waiting = 0

    def _approved_before(self, command: Sequence[str]) -> bool:
        if tuple(command) in self.approved_for_session:
            return True
        argv = simple_argv(command)
        return argv is not None and any(argv[: len(p)] == p for p in self.approved_prefixes)

    async def ask(self, request: ApprovalRequest, *, thread_id: str, turn_id: str) -> Decision:
        if self._approved_before(request.command):
            return "accept"
        peer = self._peer
        if not peer.can_ask:
            log.warning(
                "declined %s: the client can no longer answer approval requests", request.call_id
            )
            return "decline"
        method = "item/commandExecution/requestApproval"
        amendment = proposed_amendment(request.command)
        if request.prefix_rule:
            amendment = list(request.prefix_rule)
        if request.kind == "file_change":
            method = "item/fileChange/requestApproval"
            params: dict[str, Any] = {
                "threadId": thread_id,
                "turnId": turn_id,
                "itemId": request.call_id,
                "startedAtMs": int(time.time() * 1000),
                "reason": request.reason,
                "grantRoot": None,
            }
        else:
            params = self._command_params(request, thread_id, turn_id, amendment)
        return await self._send(method, params, request, thread_id=thread_id)

    @staticmethod
    def _command_params(
        request: ApprovalRequest, thread_id: str, turn_id: str, amendment: list[str] | None
    ) -> dict[str, Any]:
        return CommandExecutionRequestApprovalParams(
            thread_id=thread_id,
            turn_id=turn_id,
            item_id=request.call_id,
            started_at_ms=int(time.time() * 1000),
            command=command_text(request.command),
            cwd=str(request.cwd),
            reason=request.reason,
            command_actions=command_actions(request.command),
            proposed_execpolicy_amendment=amendment,
            available_decisions=available_decisions(amendment),
        ).to_wire()

    async def _send(
        self, method: str, params: dict[str, Any], request: ApprovalRequest, *, thread_id: str
    ) -> Decision:
        peer = self._peer
        request_id = peer.next_request_id()
        self.waiting += 1
        await self._on_waiting_changed()
        raw: Any = "decline"
        try:
            result = await peer.request(method, params, request_id=request_id)
            raw = result.get("decision") if isinstance(result, dict) else None
        except (JsonRpcError, ConnectionClosedError) as exc:
            log.warning("approval request for %s got no decision: %s", request.call_id, exc)
        finally:
            self.waiting -= 1
            resolved = ServerRequestResolvedNotification(thread_id=thread_id, request_id=request_id)
            if not peer.closed:
                await peer.notify("serverRequest/resolved", resolved.to_wire())
                await self._on_waiting_changed()
        answer = answer_of(raw)
        if answer.decision == "acceptForSession":
            self.approved_for_session.add(tuple(request.command))
        if answer.prefix is not None:
            self.approved_prefixes.add(answer.prefix)
        return answer.decision
