"""The session-scoped :class:`ModelClient` and the turn-scoped :class:`ModelClientSession`.

The client owns what lives as long as a session: provider, credentials, the HTTP pool, the
transport choice with its sticky HTTP fallback, and the startup preconnect. A new turn
session is made for every turn and owns that turn's state: its WebSocket connection, the
sticky-routing token (``x-codex-turn-state``), the memory for incremental follow-ups and the
retry loop (its decisions are the table in ``client/attempts.py``). Per-request values come as
arguments; no object here sees the whole config.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from codex_engine.client.attempts import (
    AttemptPolicy,
    Attempts,
    Failure,
    FallBack,
    Phase,
    Raise,
    RecoverAuth,
    Retry,
    Transport,
    classify,
)
from codex_engine.client.credentials import Credentials, CredentialSource
from codex_engine.client.preconnector import Preconnector
from codex_engine.client.replay import ReplayFilter
from codex_engine.client.transport_choice import TransportChoice
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import ApiError, CodexError
from codex_engine.protocol.compression import (
    CompressionState,
    compress_body,
    should_compress,
)
from codex_engine.protocol.events import (
    Completed,
    OutputItemDone,
    RateLimits,
    ResponseEvent,
)
from codex_engine.protocol.headers import (
    TURN_STATE,
    ClientIdentity,
    HeaderInputs,
    default_identity,
    handshake_headers,
    http_headers,
)
from codex_engine.protocol.items import item_to_json
from codex_engine.protocol.rate_limits import parse_rate_limit_headers
from codex_engine.protocol.request import Prompt, RequestContext, build_request_body
from codex_engine.telemetry.metrics import Metrics, TurnMetrics
from codex_engine.transport.http import HttpResponseStream, HttpTransport
from codex_engine.transport.retry import RetryPolicy
from codex_engine.transport.tls import ssl_context
from codex_engine.transport.websocket import (
    Metadata,
    WebSocketConnection,
    connect_websocket,
)

__all__ = [
    "ClientEvent",
    "ClientWarning",
    "ModelClient",
    "ModelClientSession",
    "RequestStats",
    "StreamRetry",
    "TransportFallback",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamRetry:
    """The request or its stream failed and is being sent again (``retry`` of ``max_retries``)."""

    retry: int
    max_retries: int
    delay: float
    message: str


@dataclass(frozen=True, slots=True)
class TransportFallback:
    """WebSockets failed; this and every later request of the session goes over HTTP."""

    message: str


@dataclass(frozen=True, slots=True)
class ClientWarning:
    """Something the user should hear about once, that does not stop the request."""

    message: str


ClientEvent = ResponseEvent | StreamRetry | TransportFallback | ClientWarning


@dataclass
class RequestStats:
    """Counters of one turn session, read by the per-turn summary."""

    requests: int = 0
    retries: int = 0
    events: int = 0
    websocket_handshakes: int = 0
    websocket_handshake_s: float = 0.0
    preconnect_adopted: bool = False
    incremental_requests: int = 0
    first_event_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)


class ModelClient:
    """One per session. :meth:`aclose` releases the connection pool and any warmed socket."""

    def __init__(
        self,
        *,
        provider: ModelProviderInfo,
        credentials: CredentialSource,
        thread_id: str,
        identity: ClientIdentity | None = None,
        beta_features: str | None = None,
        enable_websockets: bool = False,
        enable_preconnect: bool = True,
        enable_compression: bool = True,
        include_timing_metrics: bool = False,
        metrics: Metrics | None = None,
        env: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.thread_id = thread_id
        self.identity = identity or default_identity()
        #: Where each request's bearer comes from, and who recovers from a 401.
        self.credentials = credentials
        self._beta_features = beta_features
        self._env: Mapping[str, str] = dict(os.environ) if env is None else env
        # Loading the system CA store costs tens of milliseconds; a plain-http provider (the
        # local emulator, a loopback proxy) never needs it.
        base = provider.base_url
        self._ssl = ssl_context(self._env) if base is None or base.startswith("https") else None
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=provider.websocket_connect_timeout_seconds(),
                # Bounds the wait for response headers too, not only between body chunks.
                read=provider.stream_idle_timeout_seconds(),
                write=30.0,
                pool=30.0,
            ),
            verify=self._ssl if self._ssl is not None else False,
            trust_env=True,
        )
        #: Waits out a retry's delay (tests pass a recorder instead of asyncio.sleep).
        self.sleep = sleep
        self.http_transport = HttpTransport(
            self._http, idle_timeout=provider.stream_idle_timeout_seconds()
        )
        self.attempt_policy = AttemptPolicy(
            request=RetryPolicy(max_retries=provider.request_max_retries_effective()),
            stream=RetryPolicy(max_retries=provider.stream_max_retries_effective()),
        )
        self._provider_headers = provider.headers(self._env)
        self.transport = TransportChoice(provider.supports_websockets, enable_websockets)
        self._enable_preconnect = enable_preconnect
        self.compression = CompressionState(enable_compression)
        # Feature `runtime_metrics`: handshakes ask the server for its timing events.
        self._include_timing_metrics = include_timing_metrics
        self.metrics = metrics or Metrics.disabled()
        #: The startup preconnect (state in client/preconnect.py); the launcher starts it.
        self.preconnector: Preconnector[WebSocketConnection] = Preconnector(
            lambda connection: connection.aclose()
        )
        #: How many times this session fell back from WebSockets to HTTP (0 or 1).
        self.fallbacks = 0

    # -- session-level transport state ---------------------------------------------------

    def preconnect(
        self,
        *,
        prefer_websockets: bool = False,
        turn_metadata: Mapping[str, Any] | None = None,
    ) -> bool:
        """Start warming one WebSocket handshake in the background (nothing is sent on it).

        Returns whether a handshake was started. A failure is logged at debug level and handed
        to the next turn as its first connection attempt; it never fails the session.
        """
        if not self._enable_preconnect:
            return False
        if not self.transport.use_websocket(prefer_websockets=prefer_websockets):
            return False
        ctx = RequestContext(model="", thread_id=self.thread_id, turn_metadata=turn_metadata)

        async def warm() -> WebSocketConnection:
            started = time.monotonic()
            try:
                connection = await self.open_websocket(ctx, turn_state=None)
            except BaseException:
                self.metrics.prewarm((time.monotonic() - started) * 1000, success=False)
                raise
            self.metrics.prewarm((time.monotonic() - started) * 1000)
            return connection

        return self.preconnector.start(warm)

    def adopt_preconnect(self, handshake: asyncio.Task[WebSocketConnection]) -> bool:
        """Hold a handshake started before this client existed (exec's, see client/warm.py) as
        the preconnect; the first turn takes it. ``False`` if one is already held."""
        return self.preconnector.adopt(handshake)

    def fall_back_to_http(self, reason: str) -> bool:
        """Make HTTP sticky for the session; ``True`` the first time (warn the user then)."""
        if not self.transport.fall_back():
            return False
        self.fallbacks += 1
        self.metrics.fallback_to_http()
        self.preconnector.clear()
        log.warning("falling back from WebSockets to HTTP for this session: %s", reason)
        return True

    async def open_websocket(
        self, ctx: RequestContext, *, turn_state: str | None
    ) -> WebSocketConnection:
        """Open a Responses WebSocket with the session's credentials and headers."""
        creds = await self.credentials.credentials()
        return await connect_websocket(
            self.provider.websocket_responses_url(is_chatgpt=creds.is_chatgpt),
            handshake_headers(self.header_inputs(ctx, creds, turn_state)),
            connect_timeout=self.provider.websocket_connect_timeout_seconds(),
            idle_timeout=self.provider.stream_idle_timeout_seconds(),
            ssl_context=self._ssl,
        )

    def header_inputs(
        self, ctx: RequestContext, creds: Credentials, turn_state: str | None
    ) -> HeaderInputs:
        """What this request's headers are built from (``protocol/headers.py`` builds them)."""
        return HeaderInputs(
            identity=self.identity,
            thread_id=ctx.thread_id,
            bearer=creds.bearer,
            account_id=creds.account_id,
            turn_state=turn_state,
            turn_metadata=ctx.turn_metadata,
            beta_features=self._beta_features,
            provider_headers=self._provider_headers,
            timing_metrics=self._include_timing_metrics,
        )

    def new_session(self) -> ModelClientSession:
        """A fresh turn session: call once per turn so no turn inherits another's routing token."""
        return ModelClientSession(self)

    async def aclose(self) -> None:
        await self.preconnector.aclose()
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class ModelClientSession:
    """One turn's view of the model: every request of the turn goes through the same object."""

    def __init__(self, client: ModelClient) -> None:
        self._client = client
        self._turn_state: str | None = None
        self._connection: WebSocketConnection | None = None
        self._preconnect_checked = False
        # What the last completed WebSocket request sent and received, for incremental follow-ups.
        self._last_request: dict[str, Any] | None = None
        self._last_input: list[Any] = []
        self._items_added: list[Any] = []
        self._last_response_id: str | None = None
        self._opened = False
        self.stats = RequestStats()
        # Warnings raised below the stream loop (compression turned off), yielded by it.
        self._notices: list[str] = []
        #: Per-turn metrics; ``metrics.summary`` is the turn's runtime summary.
        self.metrics: TurnMetrics = client.metrics.for_turn()

    @property
    def turn_state(self) -> str | None:
        """The server's sticky-routing token for this turn, once it sent one."""
        return self._turn_state

    def _capture_turn_state(self, value: str | None) -> None:
        # First value wins for the whole turn; later values are ignored on purpose.
        if value and self._turn_state is None:
            self._turn_state = value

    async def stream(
        self,
        prompt: Prompt,
        ctx: RequestContext,
        *,
        prefer_websockets: bool = False,
    ) -> AsyncIterator[ClientEvent]:
        """Send one sampling request and yield its events until ``response.completed``.

        Over HTTP, failures to open the request are retried up to ``request_max_retries``
        (5xx, network, 429 with ``Retry-After``) and a stream cut short up to
        ``stream_max_retries``. Over WebSocket every retryable failure counts against
        ``stream_max_retries``; when those run out (or the server answers 426) the session
        falls back to HTTP for good and the request goes on there. What the user already saw is
        never delivered twice. Anything not retryable is raised as it is. What happens after
        each failure is decided by the table in ``client/attempts.py``; this loop carries it out.
        """
        client = self._client
        body = build_request_body(prompt, ctx)
        replay = ReplayFilter()
        attempts = Attempts()

        while True:
            use_ws = client.transport.use_websocket(prefer_websockets=prefer_websockets)
            transport: Transport = "websocket" if use_ws else "http"
            replay.new_attempt()
            self._opened = False
            try:
                attempt = self._attempt_ws(body, ctx) if use_ws else self._attempt_http(body, ctx)
                async for event in attempt:
                    while self._notices:
                        yield ClientWarning(self._notices.pop(0))
                    if self.stats.first_event_at is None:
                        self.stats.first_event_at = time.monotonic()
                    shown = replay.filter(event)
                    if shown is not None:
                        yield shown
                    if isinstance(event, Completed):
                        return
            except CodexError as exc:
                phase = Phase.STREAM if self._opened else Phase.REQUEST
                failure = classify(exc, transport=transport, phase=phase)
                decision, attempts = client.attempt_policy.decide(
                    failure,
                    transport=transport,
                    phase=phase,
                    attempts=attempts,
                    server_delay=exc.delay,
                )
                # The socket is not reused after any failure; over HTTP only a switch of
                # transport or credentials resets what the turn remembers.
                if use_ws or failure in (Failure.WEBSOCKET_REFUSED, Failure.UNAUTHORIZED):
                    await self._drop_connection()
                match decision:
                    case FallBack():
                        if client.fall_back_to_http(str(exc)):
                            yield TransportFallback(_fallback_message(exc))
                    case RecoverAuth():
                        if not await client.credentials.recover_unauthorized():
                            raise
                    case Retry(after=delay, retry=retry, max_retries=max_retries):
                        self.stats.retries += 1
                        log.info(
                            "%s failed - retrying (%d/%d in %.2fs): %s",
                            "websocket" if use_ws else decision.budget.value,
                            retry,
                            max_retries,
                            delay,
                            exc,
                        )
                        yield StreamRetry(retry, max_retries, delay, str(exc))
                        await client.sleep(delay)
                    case Raise():
                        raise

    # -- HTTP ---------------------------------------------------------------------------------

    async def _attempt_http(
        self, body: dict[str, Any], ctx: RequestContext
    ) -> AsyncIterator[ResponseEvent]:
        client = self._client
        creds = await client.credentials.credentials()
        inputs = client.header_inputs(ctx, creds, self._turn_state)
        url = client.provider.responses_url(is_chatgpt=creds.is_chatgpt)
        payload = json.dumps(body, separators=(",", ":")).encode()
        compress = client.compression.enabled and should_compress(
            feature_enabled=True,
            is_chatgpt_auth=creds.is_chatgpt,
            provider_is_openai=client.provider.is_openai(),
            transport="http",
        )
        response = await self._open_http(url, inputs, payload, compress=compress)
        self._opened = True
        self._capture_turn_state(response.headers.get(TURN_STATE))
        for snapshot in parse_rate_limit_headers(response.headers):
            yield RateLimits(snapshot)
        async for event in response.events(self.metrics.observer("http")):
            self.stats.events += 1
            yield event

    async def _open_http(
        self, url: str, inputs: HeaderInputs, payload: bytes, *, compress: bool
    ) -> HttpResponseStream:
        """POST the body, zstd-compressed when asked; a 400/415 to a compressed body is sent
        again uncompressed once, and compression stays off for the session after that."""
        client = self._client
        send, seconds = payload, None
        if compress:
            packed = compress_body(payload)
            headers = http_headers(inputs, zstd=True)
            send, seconds = packed.data, packed.seconds
            fields = {
                "pre_compression_bytes": packed.original_size,
                "post_compression_bytes": packed.compressed_size,
                "compression_duration_ms": round(packed.seconds * 1000, 3),
            }
            log.info(
                "compressed request body with zstd (pre_compression_bytes=%d -> "
                "post_compression_bytes=%d, compression_duration_ms=%.3f)",
                *fields.values(),
                extra=fields,
            )
        else:
            headers = http_headers(inputs)
        self.metrics.request_body(len(payload), len(send), compression_s=seconds)
        self.stats.requests += 1
        started = time.monotonic()
        try:
            response = await client.http_transport.open(url, headers, send)
        except ApiError as exc:
            self.metrics.api_request(exc.status, "http", _ms_since(started), error=True)
            if not (
                compress and exc.status is not None and client.compression.on_rejected(exc.status)
            ):
                raise
            warning = client.compression.take_warning()
            if warning is not None:
                log.warning("%s", warning)
                self._notices.append(warning)
            return await self._open_http(url, inputs, payload, compress=False)
        except CodexError:
            self.metrics.api_request(None, "http", _ms_since(started), error=True)
            raise
        self.metrics.api_request(response.status_code, "http", _ms_since(started))
        return response

    # -- WebSocket ----------------------------------------------------------------------------

    async def _websocket(self, ctx: RequestContext) -> WebSocketConnection:
        """This turn's connection: the open one, else the preconnected one, else a new one."""
        if self._connection is not None and not self._connection.is_closed:
            return self._connection
        await self._drop_connection()
        client = self._client
        if not self._preconnect_checked:
            self._preconnect_checked = True
            # Awaiting an in-flight preconnect is this turn's first connection attempt; its
            # failure is raised here and counted like any other.
            waited = time.monotonic()
            warmed = await client.preconnector.take()
            if warmed is not None and not warmed.is_closed:
                self.stats.preconnect_adopted = True
                self.metrics.websocket_handshake(_ms_since(waited), adopted_preconnect=True)
                settled = client.preconnector.settled_at
                if settled is not None:
                    client.metrics.prewarm_age_at_first_turn(_ms_since(settled))
                self._capture_turn_state(warmed.turn_state)
                self._connection = warmed
                return warmed
        else:
            client.preconnector.clear()
        started = time.monotonic()
        self.stats.websocket_handshakes += 1
        try:
            connection = await client.open_websocket(ctx, turn_state=self._turn_state)
        finally:
            self.stats.websocket_handshake_s += time.monotonic() - started
            self.metrics.websocket_handshake(_ms_since(started), adopted_preconnect=False)
        self._capture_turn_state(connection.turn_state)
        self._connection = connection
        return connection

    def _ws_message(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``response.create`` to send, and the request properties to remember.

        A follow-up is incremental (``previous_response_id`` plus only the new items) when
        nothing but the input changed and the input extends the previous request's input plus
        the items the server returned; otherwise the full request goes out.
        """
        request = {key: value for key, value in body.items() if key != "input"}
        items: list[Any] = body["input"]
        baseline = self._last_input + self._items_added
        message: dict[str, Any] = {"type": "response.create", **request}
        if (
            self._last_response_id is not None
            and self._last_request == request
            and baseline
            and len(items) > len(baseline)
            and items[: len(baseline)] == baseline
        ):
            message["previous_response_id"] = self._last_response_id
            message["input"] = items[len(baseline) :]
            self.stats.incremental_requests += 1
        else:
            message["input"] = items
        if self._turn_state is not None:
            metadata = dict(message.get("client_metadata") or {})
            metadata[TURN_STATE] = self._turn_state
            message["client_metadata"] = metadata
        return message, request

    async def _attempt_ws(
        self, body: dict[str, Any], ctx: RequestContext
    ) -> AsyncIterator[ResponseEvent]:
        connection = await self._websocket(ctx)
        self._opened = True
        message, request = self._ws_message(body)
        self.stats.requests += 1
        encoded = len(json.dumps(message, separators=(",", ":")))
        self.metrics.request_body(encoded, encoded)
        added: list[Any] = []
        async for event in connection.stream(message, self.metrics.observer("websocket")):
            if isinstance(event, Metadata):
                self._capture_turn_state(event.turn_state)
                continue
            self.stats.events += 1
            if isinstance(event, OutputItemDone):
                added.append(item_to_json(event.item))
            elif isinstance(event, Completed):
                self._last_request = request
                self._last_input = list(body["input"])
                self._items_added = added
                self._last_response_id = event.response_id
            yield event

    async def _drop_connection(self) -> None:
        """Forget the connection and what it knew; the next request starts afresh and in full."""
        connection, self._connection = self._connection, None
        self._last_request = None
        self._last_input = []
        self._items_added = []
        self._last_response_id = None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.aclose(), 1.0)

    async def aclose(self) -> None:
        """Close the turn's connection (a finished turn's socket is not reused)."""
        await self._drop_connection()


def _fallback_message(exc: CodexError) -> str:
    return f"Falling back from WebSockets to HTTPS transport for this session: {exc}"


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
