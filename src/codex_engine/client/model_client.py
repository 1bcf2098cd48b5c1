"""The session-scoped :class:`ModelClient` and the turn-scoped :class:`ModelClientSession`.

The client owns what lives as long as a session: provider, credentials, the HTTP connection pool.
A new turn session is made for every turn and owns that turn's state: the sticky-routing token
(``x-codex-turn-state``) and the stream retry loop. Per-request values come as arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

from codex_engine.client.credentials import CredentialSource
from codex_engine.client.replay import ReplayFilter
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import CodexError, UnauthorizedError
from codex_engine.protocol.events import Completed, RateLimits, ResponseEvent
from codex_engine.protocol.rate_limits import parse_rate_limit_headers
from codex_engine.protocol.request import (
    ClientIdentity,
    Prompt,
    RequestContext,
    build_request_body,
    build_request_headers,
    default_identity,
)
from codex_engine.transport.http import HttpTransport
from codex_engine.transport.retry import RetryPolicy, should_retry_request
from codex_engine.transport.tls import ssl_context

__all__ = ["ClientEvent", "ModelClient", "ModelClientSession", "StreamRetry"]

log = logging.getLogger(__name__)

TURN_STATE_HEADER = "x-codex-turn-state"


@dataclass(frozen=True, slots=True)
class StreamRetry:
    """The request or its stream failed and is being sent again (``retry`` of ``max_retries``)."""

    retry: int
    max_retries: int
    delay: float
    message: str


ClientEvent = ResponseEvent | StreamRetry


@dataclass
class RequestStats:
    """Counters of one turn session, read by the per-turn summary."""

    requests: int = 0
    retries: int = 0
    events: int = 0
    first_event_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)


class ModelClient:
    """One per session. Cheap to keep; :meth:`aclose` releases the connection pool."""

    def __init__(
        self,
        *,
        provider: ModelProviderInfo,
        credentials: CredentialSource,
        thread_id: str,
        identity: ClientIdentity | None = None,
        beta_features: str | None = None,
        env: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.thread_id = thread_id
        self.identity = identity or default_identity()
        self._credentials = credentials
        self._beta_features = beta_features
        self._env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=provider.websocket_connect_timeout_seconds(),
                # Bounds the wait for response headers too, not only between body chunks.
                read=provider.stream_idle_timeout_seconds(),
                write=30.0,
                pool=30.0,
            ),
            verify=ssl_context(self._env),
            trust_env=True,
        )
        self._sleep = sleep
        self._http_transport = HttpTransport(
            self._http, idle_timeout=provider.stream_idle_timeout_seconds()
        )
        self._provider_headers = provider.headers(self._env)

    def new_session(self) -> ModelClientSession:
        """A fresh turn session: call once per turn so no turn inherits another's routing token."""
        return ModelClientSession(self)

    async def aclose(self) -> None:
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
        self.stats = RequestStats()

    @property
    def turn_state(self) -> str | None:
        """The server's sticky-routing token for this turn, once it sent one."""
        return self._turn_state

    def _capture_turn_state(self, value: str | None) -> None:
        # First value wins for the whole turn; later values are ignored on purpose.
        if value and self._turn_state is None:
            self._turn_state = value

    async def stream(self, prompt: Prompt, ctx: RequestContext) -> AsyncIterator[ClientEvent]:
        """Send one sampling request and yield its events until ``response.completed``.

        Failures to open the request are retried up to the provider's ``request_max_retries``
        (5xx, network, 429 with ``Retry-After``); a stream cut short is sent again up to
        ``stream_max_retries``, and what the user already saw is not delivered twice. Anything
        else is raised as it is.
        """
        client = self._client
        provider = client.provider
        request_policy = RetryPolicy(max_retries=provider.request_max_retries_effective())
        stream_policy = RetryPolicy(max_retries=provider.stream_max_retries_effective())
        body = json.dumps(build_request_body(prompt, ctx), separators=(",", ":")).encode()
        replay = ReplayFilter()
        request_retries = stream_retries = 0
        recovered_auth = False

        while True:
            replay.new_attempt()
            opened = False
            try:
                creds = await client._credentials.credentials()
                headers = build_request_headers(
                    identity=client.identity,
                    ctx=ctx,
                    bearer=creds.bearer,
                    account_id=creds.account_id,
                    turn_state=self._turn_state,
                    beta_features=client._beta_features,
                    provider_headers=client._provider_headers,
                )
                url = provider.responses_url(is_chatgpt=creds.is_chatgpt)
                self.stats.requests += 1
                response = await client._http_transport.open(url, headers, body)
                opened = True
                self._capture_turn_state(response.headers.get(TURN_STATE_HEADER))
                for snapshot in parse_rate_limit_headers(response.headers):
                    yield RateLimits(snapshot)
                async for event in response.events():
                    if self.stats.first_event_at is None:
                        self.stats.first_event_at = time.monotonic()
                    self.stats.events += 1
                    shown = replay.filter(event)
                    if shown is not None:
                        yield shown
                    if isinstance(event, Completed):
                        return
            except UnauthorizedError:
                if recovered_auth or not await client._credentials.recover_unauthorized():
                    raise
                recovered_auth = True
                continue
            except CodexError as exc:
                if opened:
                    stream_retries += 1
                    retry, policy = stream_retries, stream_policy
                    allowed = exc.retryable and policy.allows(retry)
                else:
                    request_retries += 1
                    retry, policy = request_retries, request_policy
                    allowed = should_retry_request(exc) and policy.allows(retry)
                if not allowed:
                    raise
                delay = policy.delay(retry, exc.delay)
                self.stats.retries += 1
                log.info(
                    "%s failed - retrying (%d/%d in %.2fs): %s",
                    "stream" if opened else "request",
                    retry,
                    policy.max_retries,
                    delay,
                    exc,
                )
                yield StreamRetry(retry, policy.max_retries, delay, str(exc))
                await client._sleep(delay)
