"""The turn-scoped :class:`ModelClientSession`: one turn's requests to the model.

It owns the turn's WebSocket connection, the sticky-routing token (``x-codex-turn-state``), the
memory for incremental follow-ups and the retry loop, whose decisions are the table in
``client/attempts.py``. The session-scoped :class:`ModelClient` it belongs to makes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from codex_engine.client.attempts import (
    Attempts,
    Failure,
    FallBack,
    Phase,
    Raise,
    Reconnect,
    RecoverAuth,
    Retry,
    Transport,
    classify,
)
from codex_engine.client.events import ClientEvent, Retrying, WarningEvent
from codex_engine.client.preconnect import PreconnectState
from codex_engine.client.replay import ReplayFilter
from codex_engine.errors import ApiError, CodexError
from codex_engine.protocol.compression import compress_body, should_compress
from codex_engine.protocol.events import (
    Completed,
    OutputItemDone,
    RateLimits,
    ResponseEvent,
    server_model_header,
)
from codex_engine.protocol.headers import TURN_STATE, HeaderInputs, http_headers
from codex_engine.protocol.items import item_to_json
from codex_engine.protocol.rate_limits import parse_rate_limit_headers
from codex_engine.protocol.request import Prompt, RequestContext, build_request_body
from codex_engine.telemetry.metrics import TurnMetrics
from codex_engine.telemetry.summary import RuntimeSummary
from codex_engine.transport.http import HttpResponseStream
from codex_engine.transport.websocket import Metadata, WebSocketConnection

if TYPE_CHECKING:
    from codex_engine.client.model_client import ModelClient

__all__ = ["ModelClientSession"]

log = logging.getLogger(__name__)


class ModelClientSession:
    """One turn's view of the model: every request of the turn goes through the same object."""

    def __init__(self, client: ModelClient) -> None:
        self._client = client
        self._turn_state: str | None = None
        self._connection: WebSocketConnection | None = None
        self._preconnect_checked = False
        # Set while the failure being handled is the startup preconnect's, not this turn's.
        self._preconnect_failed = False
        # What the last completed WebSocket request sent and received, for incremental follow-ups.
        self._last_request: dict[str, Any] | None = None
        self._last_input: list[Any] = []
        self._items_added: list[Any] = []
        self._last_response_id: str | None = None
        self._opened = False
        # Warnings raised below the stream loop (compression turned off), yielded by it.
        self._notices: list[str] = []
        #: When the turn started: times in the turn's summary count from here.
        self.started_at = time.monotonic()
        #: Per-turn metrics; ``metrics.summary`` is the turn's one counter.
        self.metrics: TurnMetrics = client.metrics.for_turn()

    @property
    def summary(self) -> RuntimeSummary:
        """The turn's one counter: requests, retries, events, time per kind of work."""
        return self.metrics.summary

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
            self._preconnect_failed = False
            try:
                attempt = self._attempt_ws(body, ctx) if use_ws else self._attempt_http(body, ctx)
                async for event in attempt:
                    while self._notices:
                        yield WarningEvent(self._notices.pop(0))
                    if self.summary.time_to_first_event_ms is None:
                        self.summary.time_to_first_event_ms = _ms_since(self.started_at)
                    shown = replay.filter(event)
                    if shown is not None:
                        yield shown
                    if isinstance(event, Completed):
                        return
            except CodexError as exc:
                if self._preconnect_failed:
                    phase = Phase.PRECONNECT
                else:
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
                            yield WarningEvent(_fallback_message(exc))
                    case Reconnect():
                        log.debug("startup preconnect failed; opening the turn's own: %s", exc)
                    case RecoverAuth():
                        if not await client.credentials.recover_unauthorized():
                            raise
                    case Retry(after=delay, retry=retry, max_retries=max_retries):
                        self.summary.retries += 1
                        log.info(
                            "%s failed - retrying (%d/%d in %.2fs): %s",
                            "websocket" if use_ws else decision.budget.value,
                            retry,
                            max_retries,
                            delay,
                            exc,
                        )
                        yield Retrying(retry, max_retries, delay, str(exc))
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
        served = server_model_header(response.headers)
        if served is not None:
            yield served
        async for event in response.events(self.metrics.observer("http")):
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
        self.summary.requests += 1
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
            # A failed preconnect is raised here, marked as the preconnect's: it draws on none of
            # the turn's budgets (see Phase.PRECONNECT in client/attempts.py).
            waited = time.monotonic()
            if client.preconnector.state is PreconnectState.IN_FLIGHT:
                log.debug("waiting for the in-flight startup preconnect before the first request")
            try:
                warmed = await client.preconnector.take()
            except CodexError:
                self._preconnect_failed = True
                raise
            if warmed is not None and not warmed.is_closed:
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
        try:
            connection = await client.open_websocket(ctx, turn_state=self._turn_state)
        finally:
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
            self.summary.incremental_requests += 1
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
        self.summary.requests += 1
        encoded = len(json.dumps(message, separators=(",", ":")))
        self.metrics.request_body(encoded, encoded)
        added: list[Any] = []
        async for event in connection.stream(message, self.metrics.observer("websocket")):
            if isinstance(event, Metadata):
                self._capture_turn_state(event.turn_state)
                continue
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
