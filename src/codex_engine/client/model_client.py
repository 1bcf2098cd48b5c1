"""The session-scoped :class:`ModelClient`: what lives as long as a session.

Provider, credentials, the HTTP pool, the transport choice with its sticky HTTP fallback, and
the startup preconnect. Each turn gets a new :class:`ModelClientSession` from it
(``client/turn_session.py``). Per-request values come as arguments; no object here sees the
whole config.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx

from codex_engine.client.attempts import AttemptPolicy
from codex_engine.client.credentials import Credentials, CredentialSource
from codex_engine.client.events import ClientEvent
from codex_engine.client.preconnector import Preconnector
from codex_engine.client.transport_choice import TransportChoice
from codex_engine.client.turn_session import ModelClientSession
from codex_engine.client.warm import TurnMetadata, resolve_turn_metadata
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.protocol.compression import CompressionState
from codex_engine.protocol.headers import (
    ClientIdentity,
    HeaderInputs,
    default_identity,
    handshake_headers,
)
from codex_engine.protocol.request import RequestContext
from codex_engine.telemetry.metrics import Metrics
from codex_engine.transport.http import HttpTransport
from codex_engine.transport.retry import RetryPolicy
from codex_engine.transport.tls import ssl_context
from codex_engine.transport.websocket import WebSocketConnection, connect_websocket

# ``ClientEvent`` and ``ModelClientSession`` live in client/events.py and client/turn_session.py;
# they are importable from here too, as they always were.
__all__ = ["ClientEvent", "ModelClient", "ModelClientSession"]

log = logging.getLogger(__name__)


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
        turn_metadata: TurnMetadata = None,
    ) -> bool:
        """Start warming one WebSocket handshake in the background (nothing is sent on it).

        ``turn_metadata`` is the header's value, or a bounded coroutine function building it in
        the background task (the session's git context is collected there, off the caller's path).
        Returns whether a handshake was started. A failure is logged at debug level and handed
        to the next turn as its first connection attempt; it never fails the session.
        """
        if not self._enable_preconnect:
            return False
        if not self.transport.use_websocket(prefer_websockets=prefer_websockets):
            return False

        async def warm() -> WebSocketConnection:
            started = time.monotonic()
            try:
                metadata = await resolve_turn_metadata(turn_metadata)
                ctx = RequestContext(model="", thread_id=self.thread_id, turn_metadata=metadata)
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
