"""The emulator's aiohttp server: lifecycle, settings, scripting and routing.

`http_api` answers HTTP+SSE and `/v1/models`, `websocket_api` the WebSocket; both use the
underscored members below (package-internal). Every model request is validated as the real
API would (`validation`) unless the emulator is made lenient.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from codex_engine.emulator.faults import Pacer
from codex_engine.emulator.http_api import (
    handle_models,
    handle_responses,
    handle_unrouted,
)
from codex_engine.emulator.model import default_models
from codex_engine.emulator.oauth import OAuthIssuer
from codex_engine.emulator.oauth_http import OAUTH_PATHS, handle_oauth
from codex_engine.emulator.recording import (
    DEFAULT_WAIT_SECONDS,
    RecordedRequest,
    Recorder,
    RequestKind,
)
from codex_engine.emulator.script import (
    DEFAULT_TIMING_METRICS,
    HandshakeReply,
    IdAllocator,
    Reply,
    ReplyContext,
    default_error_body,
)
from codex_engine.emulator.validation import Conversation, Problem, first_problem
from codex_engine.emulator.websocket_api import MAX_MESSAGE_BYTES, handle_websocket

__all__ = ["RecordedRequest", "ResponsesEmulator", "TurnStateSource", "serve"]

TurnStateSource = str | Callable[[RecordedRequest], str | None] | None


class ResponsesEmulator:
    """A local Responses API: scripted replies first, then the built-in model.

    Settings below are plain attributes and may be changed while the server runs:
    `strict` (validate every model request as the real API does and answer 400 when it would;
    on by default, a test that wants a request the API would refuse sets it False),
    `handshake_delay`, `first_event_delay`, `event_delay` (seconds), `turn_state` (a value or a
    callable given the request, sent as `x-codex-turn-state` on SSE responses and on the
    WebSocket 101), `required_bearer` (other `Authorization` values get 401),
    `rate_limit_headers` (sent on SSE responses), `models` (served by `GET /v1/models`) and
    `timing_metrics` (the `responsesapi.websocket_timing` values sent before each
    `response.completed` on a WebSocket whose handshake asked with
    `x-responsesapi-include-timing-metrics: true`; None sends none, a reply may override them).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        strict: bool = True,
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
        self.strict = strict
        self.turn_state: TurnStateSource = turn_state
        self.required_bearer = required_bearer
        self.handshake_delay = handshake_delay
        self.first_event_delay = first_event_delay
        self.event_delay = event_delay
        self.models: list[dict[str, Any]] = default_models()
        self.timing_metrics: Mapping[str, Any] | None = dict(DEFAULT_TIMING_METRICS)
        reset_at = str(int(time.time()) + 3600)
        self.rate_limit_headers: dict[str, str] = {
            "x-codex-primary-used-percent": "12.5",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": reset_at,
            "x-codex-secondary-used-percent": "3.0",
            "x-codex-secondary-window-minutes": "10080",
            "x-codex-secondary-reset-at": reset_at,
        }
        # -- OAuth issuer (emulator/oauth.py): token endpoint, device codes, access-token check.
        self.oauth = OAuthIssuer()
        self._recorder = Recorder()
        self._replies: deque[Reply] = deque()
        self._handshakes: deque[HandshakeReply] = deque()
        self._ids = IdAllocator()
        # Responses completed over HTTP with `store: true`, which a later request may continue.
        self._stored: dict[str, Conversation] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._pacer = Pacer()

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
        self._pacer = Pacer()
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
        self._pacer.closing.set()
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
        """Queue answers for the next model requests (HTTP or WebSocket), first in first out.

        A request the emulator refuses as invalid (400) does not take a queued answer.
        """
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

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen so far, in arrival order (refused ones carry their `error`)."""
        return self._recorder.requests

    def clear(self) -> None:
        """Forget recorded requests (queued replies stay)."""
        self._recorder.requests.clear()

    def requests_of(self, kind: RequestKind) -> list[RecordedRequest]:
        return self._recorder.of(kind)

    async def wait_for_request(
        self,
        kind: RequestKind | None = None,
        *,
        count: int = 1,
        timeout: float | None = DEFAULT_WAIT_SECONDS,  # noqa: ASYNC109 (see Recorder.wait_for)
    ) -> RecordedRequest:
        """Wait until `count` requests (of `kind`, if given) were recorded; return the last.

        Raises TimeoutError, naming what was awaited and what came, after `timeout` seconds.
        """
        return await self._recorder.wait_for(kind, count, timeout)

    # --- package-internal: used by http_api and websocket_api ----------------------------------

    def _problem(self, body: Any, previous: Callable[[str], Conversation | None]) -> Problem | None:
        """Why the real API would refuse `body` (None: it would not). Lenient mode checks
        only what the emulator needs to answer at all."""
        if self.strict:
            return first_problem(body, previous=previous)
        if not isinstance(body, dict):
            return Problem("The request body must be a JSON object.")
        for name in ("model", "input"):
            if name not in body or (name == "model" and not body["model"]):
                return Problem(f"Missing required parameter: '{name}'.", name)
        return None

    def _next_reply(self) -> Reply:
        return self._replies.popleft() if self._replies else Reply.scripted()

    def _context(self, body: Mapping[str, Any]) -> ReplyContext:
        return ReplyContext(body=body, ids=self._ids, created_at=int(time.time()))

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

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if path in OAUTH_PATHS:
            return await handle_oauth(self.oauth, request)
        if path.endswith("/responses"):
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await handle_websocket(self, request)
            if request.method == "POST":
                return await handle_responses(self, request)
        if path.endswith("/models") and request.method == "GET":
            return await handle_models(self, request)
        return await handle_unrouted(self, request)


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
