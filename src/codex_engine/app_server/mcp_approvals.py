"""Asking the client about an MCP tool call, as the reference does: `mcpServer/elicitation/request`.

The request is a form with no fields whose ``_meta`` says it is a tool-call approval
(``codex_approval_kind: mcp_tool_call``) and offers remembering it for the session
(``persist: session``). ``accept`` runs the call (``_meta.persist == "session"`` in the answer
also approves that tool for the rest of the thread), ``decline`` and ``cancel`` do not.
"""

from __future__ import annotations

import logging
from typing import Any

from codex_engine.app_server.connection import ConnectionClosedError, Peer
from codex_engine.core.approvals import ApprovalRequest
from codex_engine.protocol.app_server import ServerRequestResolvedNotification
from codex_engine.protocol.jsonrpc import JsonRpcError

__all__ = ["McpApprovals"]

log = logging.getLogger(__name__)


class McpApprovals:
    """The MCP tool approvals of one thread, and the tools approved for its session."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer
        self.approved_for_session: set[tuple[str, str]] = set()

    async def ask(self, request: ApprovalRequest, *, thread_id: str, turn_id: str) -> str:
        """The client's action: ``accept``, ``decline`` or ``cancel``."""
        tool = request.mcp_tool
        assert tool is not None
        key = (tool.server, tool.tool)
        if key in self.approved_for_session:
            return "accept"
        peer = self._peer
        if not peer.can_ask:
            return "decline"
        meta: dict[str, Any] = {"codex_approval_kind": "mcp_tool_call", "persist": "session"}
        if tool.title:
            meta["tool_title"] = tool.title
        if tool.description:
            meta["tool_description"] = tool.description
        if tool.arguments is not None:
            meta["tool_params"] = tool.arguments
        params = {
            "threadId": thread_id,
            "turnId": turn_id or None,
            "serverName": tool.server,
            "mode": "form",
            "_meta": meta,
            "message": request.reason,
            "requestedSchema": {"type": "object", "properties": {}},
        }
        request_id = peer.next_request_id()
        action: Any = "decline"
        answer_meta: Any = None
        try:
            result = await peer.request(
                "mcpServer/elicitation/request", params, request_id=request_id
            )
            if isinstance(result, dict):
                action, answer_meta = result.get("action"), result.get("_meta")
        except (JsonRpcError, ConnectionClosedError) as exc:
            log.warning("MCP tool approval for %s got no answer: %s", request.call_id, exc)
        finally:
            if not peer.closed:
                resolved = ServerRequestResolvedNotification(
                    thread_id=thread_id, request_id=request_id
                )
                await peer.notify("serverRequest/resolved", resolved.to_wire())
        if action not in ("accept", "decline", "cancel"):
            action = "decline"
        persist = answer_meta.get("persist") if isinstance(answer_meta, dict) else None
        if action == "accept" and persist == "session":
            self.approved_for_session.add(key)
        return str(action)
