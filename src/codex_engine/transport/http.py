"""HTTP+SSE transport for ``POST {base_url}/responses`` on httpx.

Owns request establishment (retries until response headers arrive) and turning the SSE body into
:data:`ResponseEvent` values with an idle timeout between reads. Stream-level retries (a body that
breaks off) belong to the caller, which knows what it already delivered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from codex_engine.errors import (
    ConfigError,
    ConnectionFailedError,
    RequestTimeoutError,
    StreamError,
)
from codex_engine.protocol.error_mapping import classify_http_error, retry_after_seconds
from codex_engine.protocol.events import Completed, ResponseEvent, StreamFailure
from codex_engine.protocol.events import parse_stream_payload as parse_payload
from codex_engine.protocol.redaction import redact_text, request_secrets
from codex_engine.protocol.sse import SSEDecoder
from codex_engine.transport.log_redaction import install_library_log_filter

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

    async def events(self) -> AsyncIterator[ResponseEvent]:
        """Yield events until ``response.completed``; raise a retryable error if cut short."""
        decoder = SSEDecoder()
        chunks = self._response.aiter_bytes()
        try:
            while True:
                try:
                    async with asyncio.timeout(self._idle_timeout):
                        chunk = await anext(chunks, None)
                except TimeoutError:
                    raise RequestTimeoutError(
                        f"no data from the server for {self._idle_timeout:g}s (idle timeout "
                        "waiting for SSE); raise stream_idle_timeout_ms if the model needs longer"
                    ) from None
                if chunk is None:
                    break
                for sse in decoder.feed(chunk):
                    event = _decode(sse.data)
                    if event is None:
                        continue
                    if isinstance(event, StreamFailure):
                        raise event.error
                    yield event
                    if isinstance(event, Completed):
                        return
            for sse in decoder.flush():
                event = _decode(sse.data)
                if isinstance(event, StreamFailure):
                    raise event.error
                if event is not None:
                    yield event
                    if isinstance(event, Completed):
                        return
        except httpx.TransportError as exc:
            raise StreamError(f"stream disconnected before response.completed: {exc!r}") from None
        finally:
            await self._response.aclose()
        raise StreamError("stream closed before response.completed")

    async def aclose(self) -> None:
        await self._response.aclose()


def _decode(data: str) -> ResponseEvent | None:
    try:
        payload: Any = json.loads(data)
    except ValueError:
        log.debug("skipping SSE event whose data is not JSON (%d bytes)", len(data))
        return None
    return parse_payload(payload)


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
