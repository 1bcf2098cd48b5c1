"""The emulator's aiohttp server: HTTP+SSE and WebSocket on `/v1/responses`, `/v1/models`.

It records every request, consumes scripted replies in order and injects the configured faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
import weakref
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import zstandard
from aiohttp import WSMsgType, web

from codex_engine.emulator.oauth import OAuthIssuer
from codex_engine.emulator.oauth_http import OAUTH_PATHS, handle_oauth
from codex_engine.emulator.script import (
    HandshakeReply,
    IdAllocator,
    Reply,
    ReplyContext,
    default_error_body,
    default_models,
    render_events,
)
from codex_engine.protocol.headers import TURN_STATE
from codex_engine.protocol.sse import encode_event

__all__ = ["RecordedRequest", "ResponsesEmulator", "TurnStateSource", "serve"]

RequestKind = Literal["http", "ws_handshake", "ws_message", "models"]
TurnStateSource = str | Callable[["RecordedRequest"], str | None] | None

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass
class RecordedRequest:
    """One request as the emulator saw it. Header names are lower-cased.

    `body` is the parsed JSON, or None when there was none or it did not parse. It is typed
    `Any` rather than `Any | None` so tests can index it without narrowing first.
    """

    kind: RequestKind
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    connection_id: int
    turn_state_sent: str | None = None
    compressed: bool = False
    raw_size: int | None = None
    decoded_size: int | None = None


class _BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def encode_sse(event: Mapping[str, Any]) -> bytes:
    """One SSE frame named after the event's `type`, as the real server frames them."""
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return encode_event(data, str(event.get("type", "message")))


def _error_json(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response(default_error_body(status, message), status=status, headers=headers)


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        # Repeated headers are folded the way HTTP allows (RFC 9110 §5.3).
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


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
        raise _BadRequest(f"Could not decode the {encoding} request body: {exc}") from exc
    raise _BadRequest(f"Unsupported Content-Encoding: {encoding}")


def _validate_create(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _BadRequest("Missing required parameter: 'model'.")
    if "input" not in body:
        raise _BadRequest("Missing required parameter: 'input'.")
    return body


class ResponsesEmulator:
    """A local Responses API: scripted replies first, then the built-in model.

    Settings below are plain attributes and may be changed while the server runs:
    `handshake_delay`, `first_event_delay`, `event_delay` (seconds), `turn_state` (a value or a
    callable given the request, sent as `x-codex-turn-state` on SSE responses and on the
    WebSocket 101), `required_bearer` (other `Authorization` values get 401),
    `rate_limit_headers` (sent on SSE responses), `models` (served by `GET /v1/models`) and
    `check_previous_response_id` (WebSocket `previous_response_id` must name a response
    completed on the same connection, as on the real server).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        turn_state: TurnStateSource = None,
        required_bearer: str | None = None,
        handshake_delay: float = 0.0,
        first_event_delay: float = 0.0,
        event_delay: float = 0.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        #: Serve HTTPS / WSS with this context (tests of custom CA bundles); plain when None.
        self.ssl_context = ssl_context
        self.turn_state: TurnStateSource = turn_state
        self.required_bearer = required_bearer
        self.handshake_delay = handshake_delay
        self.first_event_delay = first_event_delay
        self.event_delay = event_delay
        self.check_previous_response_id = True
        self.models: list[dict[str, Any]] = default_models()
        reset_at = str(int(time.time()) + 3600)
        self.rate_limit_headers: dict[str, str] = {
            "x-codex-primary-used-percent": "12.5",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": reset_at,
            "x-codex-secondary-used-percent": "3.0",
            "x-codex-secondary-window-minutes": "10080",
            "x-codex-secondary-reset-at": reset_at,
        }
        self.requests: list[RecordedRequest] = []
        # -- OAuth issuer (emulator/oauth.py): token endpoint, device codes, access-token check.
        self.oauth = OAuthIssuer()
        self._replies: deque[Reply] = deque()
        self._handshakes: deque[HandshakeReply] = deque()
        self._ids = IdAllocator()
        self._connections: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._connection_count = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._recorded = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> ResponsesEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind and serve; `port=0` picks a free port (see `base_url`)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # auto_decompress=False: the raw body size is recorded, and aiohttp has no zstd decoder
        # without an extra package.
        runner = web.AppRunner(
            app, auto_decompress=False, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close open WebSockets (1001), end streams in progress, release the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        sockets = list(self._sockets)
        await asyncio.gather(
            *(ws.close(code=1001, message=b"emulator stopping") for ws in sockets),
            return_exceptions=True,
        )
        await runner.cleanup()

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT/v1`, the provider base URL clients join `responses` to."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self._url_host}:{self.port}/v1"

    @property
    def ws_url(self) -> str:
        """`ws://HOST:PORT/v1/responses`, the WebSocket endpoint."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{self._url_host}:{self.port}/v1/responses"

    @property
    def issuer_url(self) -> str:
        """`http://HOST:PORT`, the OAuth issuer (`--issuer`); tokens at `/oauth/token`."""
        return f"http://{self._url_host}:{self.port}"

    @property
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    # --- scripting and inspection ---------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue answers for the next model requests (HTTP or WebSocket), first in first out."""
        self._replies.extend(replies)

    def enqueue_handshake(self, *replies: HandshakeReply) -> None:
        """Queue answers for the next WebSocket upgrade attempts; the default is to accept."""
        self._handshakes.extend(replies)

    @property
    def pending_replies(self) -> int:
        return len(self._replies)

    @property
    def pending_handshakes(self) -> int:
        return len(self._handshakes)

    def clear(self) -> None:
        """Forget recorded requests (queued replies stay)."""
        self.requests.clear()

    def requests_of(self, kind: RequestKind) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == kind]

    async def wait_for_request(
        self, kind: RequestKind | None = None, *, count: int = 1
    ) -> RecordedRequest:
        """Wait until `count` requests (of `kind`, if given) were recorded; return the last."""
        while True:
            matching = [r for r in self.requests if kind is None or r.kind == kind]
            if len(matching) >= count:
                return matching[count - 1]
            await self._recorded.wait()

    def _record(self, request: RecordedRequest) -> RecordedRequest:
        self.requests.append(request)
        # Wake every waiter once, then re-arm for the next request.
        self._recorded.set()
        self._recorded = asyncio.Event()
        return request

    def _connection_id(self, request: web.Request) -> int:
        transport = request.transport
        if transport is not None:
            with contextlib.suppress(TypeError):
                known = self._connections.get(transport)
                if known is not None:
                    return known
        self._connection_count += 1
        if transport is not None:
            with contextlib.suppress(TypeError):
                self._connections[transport] = self._connection_count
        return self._connection_count

    def _turn_state_for(self, override: str | None, record: RecordedRequest) -> str | None:
        if override is not None:
            return override
        source = self.turn_state
        return source(record) if callable(source) else source

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.oauth.check_access_tokens:
            # ChatGPT mode: only live access tokens minted by the issuer pass.
            token = header.removeprefix("Bearer ")
            return header.startswith("Bearer ") and self.oauth.access_token_valid(token)
        if self.required_bearer is None:
            return True
        return header == f"Bearer {self.required_bearer}"

    def _unauthorized(self) -> web.Response:
        return web.json_response(
            default_error_body(401, "Incorrect API key provided."),
            status=401,
            headers={"x-request-id": self._ids.next("req")},
        )

    async def _sleep(self, delay: float | None) -> None:
        """Sleep, but wake at once when the emulator stops."""
        if delay and delay > 0 and not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)

    def _new_record(self, request: web.Request, kind: RequestKind, body: Any) -> RecordedRequest:
        return RecordedRequest(
            kind=kind,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=_lower_headers(request.headers),
            body=body,
            connection_id=self._connection_id(request),
        )

    # --- HTTP -----------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if path in OAUTH_PATHS:
            return await handle_oauth(self.oauth, request)
        if path.endswith("/responses"):
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await self._handle_websocket(request)
            if request.method == "POST":
                return await self._handle_responses(request)
        if path.endswith("/models") and request.method == "GET":
            return await self._handle_models(request)
        record = self._record(self._new_record(request, "http", None))
        with contextlib.suppress(ValueError):
            record.body = json.loads(await request.read() or b"null")
        if path.endswith("/responses"):
            return _error_json(405, f"Method {request.method} is not allowed on {request.path}.")
        return _error_json(404, f"No route for {request.method} {request.path}.")

    async def _handle_models(self, request: web.Request) -> web.StreamResponse:
        self._record(self._new_record(request, "models", None))
        if not self._authorized(request):
            return self._unauthorized()
        data = [
            {"id": m["slug"], "object": "model", "created": 0, "owned_by": "codex-engine-emulator"}
            for m in self.models
        ]
        payload = {"object": "list", "data": data, "models": self.models}
        etag = f'"{zlib.crc32(json.dumps(payload, sort_keys=True).encode()):08x}"'
        return web.json_response(payload, headers={"ETag": etag})

    async def _handle_responses(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        record = self._new_record(request, "http", None)
        record.raw_size = len(raw)
        record.compressed = encoding not in ("", "identity")
        self._record(record)
        try:
            decoded = _decode_body(raw, encoding)
            record.decoded_size = len(decoded)
            try:
                record.body = json.loads(decoded)
            except ValueError as exc:
                raise _BadRequest(f"The request body is not valid JSON: {exc}") from exc
        except _BadRequest as exc:
            if not self._authorized(request):
                return self._unauthorized()
            return _error_json(400, exc.message, **{"x-request-id": self._ids.next("req")})
        if not self._authorized(request):
            return self._unauthorized()
        try:
            body = _validate_create(record.body)
        except _BadRequest as exc:
            return _error_json(400, exc.message, **{"x-request-id": self._ids.next("req")})

        reply = self._replies.popleft() if self._replies else Reply.scripted()
        request_id = self._ids.next("req")
        if reply.is_status:
            headers = {"x-request-id": request_id, **_status_headers(reply)}
            if reply.turn_state is not None:
                headers[TURN_STATE] = reply.turn_state
                record.turn_state_sent = reply.turn_state
            body_json = dict(reply.body) if reply.body is not None else None
            return web.json_response(
                body_json or default_error_body(reply.status_code),
                status=reply.status_code,
                headers=headers,
            )
        return await self._stream_sse(request, record, body, reply, request_id)

    async def _stream_sse(
        self,
        request: web.Request,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Reply,
        request_id: str,
    ) -> web.StreamResponse:
        events = render_events(reply, self._context(body))
        response = web.StreamResponse(status=200)
        response.content_type = "text/event-stream"
        response.headers["Cache-Control"] = "no-cache"
        response.headers["x-request-id"] = request_id
        response.headers.update(self.rate_limit_headers)
        turn_state = self._turn_state_for(reply.turn_state, record)
        if turn_state is not None:
            response.headers[TURN_STATE] = turn_state
            record.turn_state_sent = turn_state
        response.headers.update(reply.headers)
        await response.prepare(request)
        for index, event in enumerate(events):
            if reply.drop_after is not None and index >= reply.drop_after:
                break
            await self._sleep(self._delay_before(reply, index))
            if self._closing.is_set():
                break
            await response.write(encode_sse(event))
        else:
            if reply.drop_after is None or reply.drop_after > len(events):
                await response.write_eof()
                return response
        # Drop the connection without the terminating chunk: the client sees a body cut short.
        transport = request.transport
        if transport is not None:
            if reply.drop_mode == "abort":
                transport.abort()
            else:
                transport.close()
        return response

    def _context(self, body: Mapping[str, Any]) -> ReplyContext:
        return ReplyContext(body=body, ids=self._ids, created_at=int(time.time()))

    def _delay_before(self, reply: Reply, index: int) -> float | None:
        if index == 0:
            first = reply.first_event_delay
            return self.first_event_delay if first is None else first
        between = reply.event_delay
        return self.event_delay if between is None else between

    # --- WebSocket ------------------------------------------------------------------------------

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        record = self._record(self._new_record(request, "ws_handshake", None))
        if not self._authorized(request):
            return self._unauthorized()
        handshake = self._handshakes.popleft() if self._handshakes else HandshakeReply()
        delay = self.handshake_delay if handshake.delay is None else handshake.delay
        await self._sleep(delay)
        if self._closing.is_set():
            return _error_json(503, "The emulator is stopping.")
        if handshake.status is not None:
            body = dict(handshake.body) if handshake.body is not None else None
            return web.json_response(
                body or default_error_body(handshake.status),
                status=handshake.status,
                headers={"x-request-id": self._ids.next("req"), **handshake.headers},
            )
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, timeout=5.0)
        ws.headers["x-request-id"] = self._ids.next("req")
        turn_state = self._turn_state_for(handshake.turn_state, record)
        if turn_state is not None:
            ws.headers[TURN_STATE] = turn_state
            record.turn_state_sent = turn_state
        ws.headers.update(handshake.headers)
        await ws.prepare(request)
        self._sockets.add(ws)
        completed: set[str] = set()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    keep_open = await self._on_ws_text(request, ws, record, message.data, completed)
                    if not keep_open:
                        break
                elif message.type == WSMsgType.BINARY:
                    await _send_ws_error(ws, 400, "Binary frames are not supported.")
        except ConnectionError:
            pass  # the peer went away mid-answer; nothing left to tell it
        finally:
            self._sockets.discard(ws)
        return ws

    async def _on_ws_text(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        handshake: RecordedRequest,
        text: str,
        completed: set[str],
    ) -> bool:
        """Answer one frame; False when the connection was dropped on purpose."""
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        self._record(
            RecordedRequest(
                kind="ws_message",
                method="WS",
                path=handshake.path,
                query={},
                headers={},
                body=data,
                connection_id=handshake.connection_id,
            )
        )
        if data is None:
            await _send_ws_error(ws, 400, "The message is not valid JSON.")
            return True
        message_type = data.get("type") if isinstance(data, dict) else None
        if message_type != "response.create":
            await _send_ws_error(ws, 400, f"Unsupported message type: {message_type!r}.")
            return True
        try:
            body = _validate_create(data)
        except _BadRequest as exc:
            await _send_ws_error(ws, 400, exc.message)
            return True
        previous = body.get("previous_response_id")
        if self.check_previous_response_id and previous and previous not in completed:
            await _send_ws_error(
                ws,
                400,
                f"Previous response with id '{previous}' not found.",
                code="previous_response_not_found",
            )
            return True

        reply = self._replies.popleft() if self._replies else Reply.scripted()
        if reply.is_status:
            error = (
                dict(reply.body)
                if reply.body is not None
                else default_error_body(reply.status_code)
            )
            await _send_ws_frame(
                ws,
                {
                    "type": "error",
                    "status": reply.status_code,
                    "error": error.get("error", error),
                    "headers": _lower_headers(_status_headers(reply)),
                },
            )
            return True
        events = render_events(reply, self._context(body))
        for index, event in enumerate(events):
            if reply.drop_after is not None and index >= reply.drop_after:
                break
            await self._sleep(self._delay_before(reply, index))
            if self._closing.is_set() or ws.closed:
                return False
            await _send_ws_frame(ws, event)
            if event.get("type") == "response.completed":
                response = event.get("response")
                if isinstance(response, dict) and isinstance(response.get("id"), str):
                    completed.add(response["id"])
        else:
            if reply.drop_after is None or reply.drop_after > len(events):
                return True
        if reply.drop_mode == "abort" and request.transport is not None:
            request.transport.abort()
        else:
            await ws.close(code=reply.ws_close_code, message=b"emulator dropped the stream")
        return False


def _status_headers(reply: Reply) -> dict[str, str]:
    headers: dict[str, str] = {}
    if reply.retry_after is not None:
        seconds = reply.retry_after
        headers["Retry-After"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
    if reply.retry_after_ms is not None:
        headers["retry-after-ms"] = str(reply.retry_after_ms)
    headers.update(reply.headers)
    return headers


async def _send_ws_frame(ws: web.WebSocketResponse, payload: Mapping[str, Any]) -> None:
    await ws.send_str(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))


async def _send_ws_error(
    ws: web.WebSocketResponse, status: int, message: str, *, code: str | None = None
) -> None:
    error = default_error_body(status, message)["error"]
    if code is not None:
        error["code"] = code
    await _send_ws_frame(ws, {"type": "error", "status": status, "error": error, "headers": {}})


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ready: Callable[[str], None] | None = None,
    handshake_delay: float = 0.0,
    event_delay: float = 0.0,
    turn_state: str | None = None,
) -> None:
    """Run an emulator until cancelled; `ready` gets the base URL once the port is bound."""
    async with ResponsesEmulator(
        host,
        port,
        handshake_delay=handshake_delay,
        event_delay=event_delay,
        turn_state=turn_state,
    ) as emulator:
        if ready is not None:
            ready(emulator.base_url)
        await asyncio.Event().wait()
