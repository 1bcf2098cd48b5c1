"""HTTP+SSE transport for ``POST {base_url}/responses`` on httpx.

Owns request establishment (retries until response headers arrive) and turning the SSE body into
:data:`ResponseEvent` values with an idle timeout between reads. Stream-level retries (a body that
breaks off) belong to the caller, which knows what it already delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping

import httpx

from codex_engine.errors import (
    CodexError,
    ConfigError,
    ConnectionFailedError,
    RequestTimeoutError,
    StreamError,
)
from codex_engine.protocol.error_mapping import classify_http_error, retry_after_seconds
from codex_engine.protocol.event_tags import (
    DEFAULT_SSE_KIND,
    UNKNOWN_KIND,
    event_succeeded,
)
from codex_engine.protocol.events import (
    Completed,
    ResponseEvent,
    StreamFailure,
    decode_stream_message,
)
from codex_engine.protocol.redaction import redact_text, request_secrets
from codex_engine.protocol.sse import SSEDecoder
from codex_engine.transport.log_redaction import install_library_log_filter
from codex_engine.transport.observer import IGNORE, StreamObserver

__all__ = ["HttpResponseStream", "HttpTransport"]

log = logging.getLogger(__name__)
# httpx and httpcore log URLs and response headers at debug level; keep credentials out.
install_library_log_filter()


class HttpResponseStream:
    """An open SSE response: headers now, events as they arrive."""

    def __init__(self, response: httpx.Response, idle_timeout: float) -> None:
        self._response = response
        self._idle_timeout = idle_timeout
        self.headers: Mapping[str, str] = response.headers
        self.status_code = response.status_code

    async def events(self, observer: StreamObserver = IGNORE) -> AsyncIterator[ResponseEvent]:
        """Yield events until ``response.completed``; raise a retryable error if cut short.

        ``observer`` hears of every SSE event (tagged with its ``event:`` name), and of a broken
        stream or an idle timeout as a failed ``unknown`` one.
        """
        decoder = SSEDecoder()
        chunks = self._response.aiter_bytes()
        try:
            while True:
                waited = time.monotonic()
                try:
                    chunk = await self._next_chunk(chunks)
                except CodexError:
                    observer.event_received(UNKNOWN_KIND, _ms_since(waited), success=False)
                    raise
                # The wait is the first event's; the others of the chunk came with it.
                wait_ms = _ms_since(waited)
                for sse in decoder.feed(chunk) if chunk is not None else decoder.flush():
                    event, ok = _decode(sse.data)
                    observer.event_received(sse.event or DEFAULT_SSE_KIND, wait_ms, success=ok)
                    wait_ms = 0.0
                    if isinstance(event, StreamFailure):
                        raise event.error
                    if event is None:
                        continue
                    yield event
                    if isinstance(event, Completed):
                        return
                if chunk is None:
                    break
        finally:
            await self._response.aclose()
        raise StreamError("stream closed before response.completed")

    async def _next_chunk(self, chunks: AsyncIterator[bytes]) -> bytes | None:
        """The next piece of the body, ``None`` at its end; an idle timeout or a broken
        connection raise."""
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await anext(chunks, None)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no data from the server for {self._idle_timeout:g}s (idle timeout "
                "waiting for SSE); raise stream_idle_timeout_ms if the model needs longer"
            ) from None
        except httpx.TransportError as exc:
            raise StreamError(f"stream disconnected before response.completed: {exc!r}") from None

    async def aclose(self) -> None:
        await self._response.aclose()


def _decode(data: str) -> tuple[ResponseEvent | StreamFailure | None, bool]:
    """The event an SSE ``data`` carries (``None``: skip it) and whether it counts as a success.

    ``[DONE]`` is a success with no event; data that is not JSON is a failure.
    """
    if data.strip() == "[DONE]":
        return None, True
    try:
        kind, event = decode_stream_message(data)
    except ValueError:
        log.debug("skipping SSE event whose data is not JSON (%d bytes)", len(data))
        return None, False
    return event, event_succeeded(kind, event)


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


class HttpTransport:
    """Sends Responses requests over HTTP; one instance per session, shared by its turns.

    :meth:`open` makes one attempt; the caller owns the retry loop so it can report each retry
    as it happens and keep the request and stream retry budgets apart.
    """

    def __init__(self, client: httpx.AsyncClient, *, idle_timeout: float) -> None:
        self._client = client
        self._idle_timeout = idle_timeout

    async def open(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponseStream:
        """POST the body with exactly ``headers`` (``protocol.headers.http_headers``); return the
        stream on a 2xx, raise the classified error otherwise.

        An error answer carries the server's ``Retry-After`` in ``error.delay``.
        """
        try:
            request = self._client.build_request(
                "POST",
                url,
                headers=dict(headers),
                content=body,
            )
        except UnicodeEncodeError:
            raise ConfigError(_BAD_HEADER + "non-ASCII characters. " + _BAD_HEADER_FIX) from None
        try:
            response = await self._client.send(request, stream=True)
        except httpx.ConnectError as exc:
            raise ConnectionFailedError(
                f"could not connect to {url} ({_reason(exc)}); check that the server is "
                "running and the provider's base_url is right"
            ) from None
        except httpx.TimeoutException:
            raise RequestTimeoutError(
                f"timed out waiting for {url} to answer; check the network or raise "
                "stream_idle_timeout_ms"
            ) from None
        except httpx.LocalProtocolError as exc:
            # h11 refuses a header value (a newline in it) and quotes it: hide it, and do not
            # retry what cannot succeed.
            reason = redact_text(_reason(exc), request_secrets(headers))
            raise ConfigError(
                f"{_BAD_HEADER}a character HTTP forbids ({reason}). {_BAD_HEADER_FIX}"
            ) from None
        except httpx.TransportError as exc:
            reason = redact_text(_reason(exc), request_secrets(headers))
            raise StreamError(f"request to {url} failed: {reason}") from None
        if response.is_success:
            return HttpResponseStream(response, self._idle_timeout)
        try:
            raw = await response.aread()
        except httpx.TransportError:
            raw = b""
        finally:
            await response.aclose()
        error = classify_http_error(response.status_code, response.headers, raw, url=url)
        error.delay = retry_after_seconds(response.headers)
        raise error


_BAD_HEADER = "a request header value has "
_BAD_HEADER_FIX = (
    "Check the API key and the provider's http_headers / env_http_headers (and the variables "
    "they name)."
)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
