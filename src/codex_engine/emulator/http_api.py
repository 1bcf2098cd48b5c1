"""The emulator's plain HTTP side: `POST /v1/responses` answered with SSE, `GET /v1/models`."""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zstandard
from aiohttp import web

from codex_engine.emulator.faults import events_before_drop, status_headers
from codex_engine.emulator.recording import RecordedRequest
from codex_engine.emulator.render import output_items, render_events
from codex_engine.emulator.script import RawEvent, Reply, default_error_body
from codex_engine.emulator.validation import Problem, continue_conversation
from codex_engine.protocol.headers import TURN_STATE
from codex_engine.protocol.sse import encode_event

if TYPE_CHECKING:
    from codex_engine.emulator.server import ResponsesEmulator

__all__ = ["encode_sse", "error_json", "handle_models", "handle_responses", "handle_unrouted"]


def encode_sse(event: Mapping[str, Any] | RawEvent) -> bytes:
    """One SSE frame named after the event's `type`, as the real server frames them."""
    if isinstance(event, RawEvent):
        return encode_event(event.data, event.event)
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return encode_event(data, str(event.get("type", "message")))


def error_json(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response(default_error_body(status, message), status=status, headers=headers)


def _decode_body(raw: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return raw
    try:
        if encoding == "zstd":
            # decompressobj copes with frames that do not state their content size.
            return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
        if encoding == "gzip":
            return zlib.decompress(raw, wbits=16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise ValueError(f"Could not decode the {encoding} request body: {exc}") from exc
    raise ValueError(f"Unsupported Content-Encoding: {encoding}")


async def handle_unrouted(emu: ResponsesEmulator, request: web.Request) -> web.StreamResponse:
    """Anything else: recorded, then 405 on `/responses`, 404 elsewhere."""
    record = emu._recorder.record(emu._recorder.new(request, "http"))
    with contextlib.suppress(ValueError):
        record.body = json.loads(await request.read() or b"null")
    if request.path.rstrip("/").endswith("/responses"):
        return error_json(405, f"Method {request.method} is not allowed on {request.path}.")
    return error_json(404, f"No route for {request.method} {request.path}.")


async def handle_models(emu: ResponsesEmulator, request: web.Request) -> web.StreamResponse:
    emu._recorder.record(emu._recorder.new(request, "models"))
    if not emu._authorized(request):
        return emu._unauthorized()
    data = [
        {"id": m["slug"], "object": "model", "created": 0, "owned_by": "codex-engine-emulator"}
        for m in emu.models
    ]
    payload = {"object": "list", "data": data, "models": emu.models}
    etag = f'"{zlib.crc32(json.dumps(payload, sort_keys=True).encode()):08x}"'
    return web.json_response(payload, headers={"ETag": etag})


async def handle_responses(emu: ResponsesEmulator, request: web.Request) -> web.StreamResponse:
    """Decode, record, authorize, validate; then the next scripted reply (or the model's)."""
    raw = await request.read()
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    record = emu._recorder.new(request, "http")
    record.raw_size = len(raw)
    record.compressed = encoding not in ("", "identity")
    emu._recorder.record(record)
    unreadable: Problem | None = None
    try:
        decoded = _decode_body(raw, encoding)
        record.decoded_size = len(decoded)
        try:
            record.body = json.loads(decoded)
        except ValueError as exc:
            raise ValueError(f"The request body is not valid JSON: {exc}") from exc
    except ValueError as exc:
        unreadable = Problem(str(exc))
    if not emu._authorized(request):
        return emu._unauthorized()
    problem = unreadable or emu._problem(record.body, emu._stored.get)
    if problem is not None:
        record.error = problem.error()
        return web.json_response(
            {"error": record.error}, status=400, headers={"x-request-id": emu._ids.next("req")}
        )
    body: dict[str, Any] = record.body
    reply = emu._next_reply()
    request_id = emu._ids.next("req")
    if reply.is_status:
        headers = {"x-request-id": request_id, **status_headers(reply)}
        if reply.turn_state is not None:
            headers[TURN_STATE] = reply.turn_state
            record.turn_state_sent = reply.turn_state
        body_json = dict(reply.body) if reply.body is not None else None
        return web.json_response(
            body_json or default_error_body(reply.status_code),
            status=reply.status_code,
            headers=headers,
        )
    return await _stream_sse(emu, request, record, body, reply, request_id)


async def _stream_sse(
    emu: ResponsesEmulator,
    request: web.Request,
    record: RecordedRequest,
    body: dict[str, Any],
    reply: Reply,
    request_id: str,
) -> web.StreamResponse:
    events = render_events(reply, emu._context(body))
    response = web.StreamResponse(status=200)
    response.content_type = "text/event-stream"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["x-request-id"] = request_id
    response.headers.update(emu.rate_limit_headers)
    turn_state = emu._turn_state_for(reply.turn_state, record)
    if turn_state is not None:
        response.headers[TURN_STATE] = turn_state
        record.turn_state_sent = turn_state
    response.headers.update(reply.headers)
    await response.prepare(request)
    drop_at = events_before_drop(reply, len(events))
    stopped = False
    for index, event in enumerate(events[:drop_at]):
        await emu._pacer.before_event(
            reply, index, first_default=emu.first_event_delay, between_default=emu.event_delay
        )
        if emu._pacer.closing.is_set():
            stopped = True
            break
        await response.write(encode_sse(event))
        record.events_sent += 1
    if drop_at is None and not stopped:
        await response.write_eof()
        _remember(emu, body, events)
        return response
    # Drop the connection without the terminating chunk: the client sees a body cut short.
    transport = request.transport
    if transport is not None:
        if reply.drop_mode == "abort":
            transport.abort()
        else:
            transport.close()
    return response


def _remember(emu: ResponsesEmulator, body: Mapping[str, Any], events: list[Any]) -> None:
    """A completed response the client asked to store can be continued over HTTP."""
    if body.get("store") is not True:
        return
    for event in events:
        if not isinstance(event, dict) or event.get("type") != "response.completed":
            continue
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("id"), str):
            previous = body.get("previous_response_id")
            prior = emu._stored.get(previous) if isinstance(previous, str) else None
            emu._stored[response["id"]] = continue_conversation(body, output_items(events), prior)
