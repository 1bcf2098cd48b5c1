"""The emulator's WebSocket side: the upgrade on `/v1/responses`, then `response.create` frames.

Each connection remembers the responses it completed, so a follow-up may name one with
`previous_response_id` and send only the new items, as on the real server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from codex_engine.emulator.faults import events_before_drop, status_headers
from codex_engine.emulator.http_api import error_json
from codex_engine.emulator.recording import RecordedRequest, lower_headers
from codex_engine.emulator.render import output_items, render_events
from codex_engine.emulator.script import (
    Event,
    HandshakeReply,
    RawEvent,
    Reply,
    default_error_body,
)
from codex_engine.emulator.validation import Conversation, Problem, continue_conversation
from codex_engine.protocol.headers import INCLUDE_TIMING_METRICS, TURN_STATE
from codex_engine.protocol.server_timing import TIMING_EVENT

if TYPE_CHECKING:
    from codex_engine.emulator.server import ResponsesEmulator

__all__ = ["MAX_MESSAGE_BYTES", "handle_websocket"]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


async def handle_websocket(emu: ResponsesEmulator, request: web.Request) -> web.StreamResponse:
    """Answer the upgrade as scripted (accept, late, or refuse), then serve frames until closed."""
    record = emu._recorder.record(emu._recorder.new(request, "ws_handshake"))
    if not emu._authorized(request):
        return emu._unauthorized()
    handshake = emu._handshakes.popleft() if emu._handshakes else HandshakeReply()
    delay = emu.handshake_delay if handshake.delay is None else handshake.delay
    await emu._pacer.sleep(delay)
    if emu._pacer.closing.is_set():
        return error_json(503, "The emulator is stopping.")
    if handshake.status is not None:
        body = dict(handshake.body) if handshake.body is not None else None
        return web.json_response(
            body or default_error_body(handshake.status),
            status=handshake.status,
            headers={"x-request-id": emu._ids.next("req"), **handshake.headers},
        )
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, timeout=5.0)
    ws.headers["x-request-id"] = emu._ids.next("req")
    turn_state = emu._turn_state_for(handshake.turn_state, record)
    if turn_state is not None:
        ws.headers[TURN_STATE] = turn_state
        record.turn_state_sent = turn_state
    ws.headers.update(handshake.headers)
    await ws.prepare(request)
    emu._sockets.add(ws)
    connection = _Connection(emu, request, ws, record)
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                if not await connection.on_text(message.data):
                    break
            elif message.type == WSMsgType.BINARY:
                await _send_error(ws, 400, Problem("Binary frames are not supported."))
    except ConnectionError:
        pass  # the peer went away mid-answer; nothing left to tell it
    finally:
        emu._sockets.discard(ws)
    return ws


class _Connection:
    """One accepted WebSocket and the responses completed on it."""

    def __init__(
        self,
        emu: ResponsesEmulator,
        request: web.Request,
        ws: web.WebSocketResponse,
        handshake: RecordedRequest,
    ) -> None:
        self.emu = emu
        self.request = request
        self.ws = ws
        self.handshake = handshake
        self.completed: dict[str, Conversation] = {}

    async def on_text(self, text: str) -> bool:
        """Answer one frame; False when the connection was dropped on purpose."""
        emu = self.emu
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        record = emu._recorder.record(
            RecordedRequest(
                kind="ws_message",
                method="WS",
                path=self.handshake.path,
                query={},
                headers={},
                body=data,
                connection_id=self.handshake.connection_id,
            )
        )
        problem = self._problem(data)
        if problem is not None:
            record.error = problem.error()
            await _send_error(self.ws, 400, problem)
            return True
        body = {key: value for key, value in data.items() if key != "type"}
        reply = emu._next_reply()
        if reply.is_status:
            error = (
                dict(reply.body)
                if reply.body is not None
                else default_error_body(reply.status_code)
            )
            await _send_frame(
                self.ws,
                {
                    "type": "error",
                    "status": reply.status_code,
                    "error": error.get("error", error),
                    "headers": lower_headers(status_headers(reply)),
                },
            )
            return True
        events = render_events(reply, emu._context(body))
        drop_at = events_before_drop(reply, len(events))
        timing = self._timing_event(reply)
        for index, event in enumerate(events[:drop_at]):
            await emu._pacer.before_event(
                reply, index, first_default=emu.first_event_delay, between_default=emu.event_delay
            )
            if emu._pacer.closing.is_set() or self.ws.closed:
                return False
            completed = isinstance(event, dict) and event.get("type") == "response.completed"
            if completed and timing is not None:
                await _send_frame(self.ws, timing)
                record.events_sent += 1
            await _send_frame(self.ws, event)
            record.events_sent += 1
            if completed and isinstance(event, dict):
                self._remember(body, event, events)
        if drop_at is None:
            return True
        if reply.drop_mode == "abort" and self.request.transport is not None:
            self.request.transport.abort()
        else:
            await self.ws.close(code=reply.ws_close_code, message=b"emulator dropped the stream")
        return False

    def _problem(self, data: Any) -> Problem | None:
        if data is None:
            return Problem("The message is not valid JSON.")
        message_type = data.get("type") if isinstance(data, dict) else None
        if message_type != "response.create":
            return Problem(f"Unsupported message type: {message_type!r}.", "type")
        body = {key: value for key, value in data.items() if key != "type"}
        return self.emu._problem(body, self.completed.get)

    def _timing_event(self, reply: Reply) -> dict[str, Any] | None:
        """The server's timing of a response, when the handshake asked for it (as the real
        server does for `x-responsesapi-include-timing-metrics: true`)."""
        if self.handshake.headers.get(INCLUDE_TIMING_METRICS.lower()) != "true":
            return None
        values = reply.timing_metrics
        if values is None:
            values = self.emu.timing_metrics
        if values is None:
            return None
        return {"type": TIMING_EVENT, "timing_metrics": dict(values)}

    def _remember(
        self, body: Mapping[str, Any], completed: Mapping[str, Any], events: list[Event]
    ) -> None:
        response = completed.get("response")
        if not isinstance(response, dict) or not isinstance(response.get("id"), str):
            return
        previous = body.get("previous_response_id")
        prior = self.completed.get(previous) if isinstance(previous, str) else None
        self.completed[response["id"]] = continue_conversation(body, output_items(events), prior)


async def _send_frame(ws: web.WebSocketResponse, payload: Mapping[str, Any] | RawEvent) -> None:
    if isinstance(payload, RawEvent):
        await ws.send_str(payload.data)
        return
    await ws.send_str(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))


async def _send_error(ws: web.WebSocketResponse, status: int, problem: Problem) -> None:
    """The error frame codex-engine reads like an HTTP answer (`status`, `error`, `headers`)."""
    await _send_frame(
        ws, {"type": "error", "status": status, "error": problem.error(), "headers": {}}
    )
