"""Every header of a Responses request, built here and nowhere else: the HTTP POST, the
WebSocket handshake (a turn's, the startup preconnect's and exec's early warm-up) from the same
:class:`HeaderInputs`. Header names are the constants below. No I/O.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from codex_engine._version import __version__
from codex_engine.errors import ConfigError
from codex_engine.protocol.secret_repr import SecretRepr

__all__ = [
    "ACCEPT",
    "AUTHORIZATION",
    "BETA_FEATURES",
    "CHATGPT_ACCOUNT_ID",
    "CLIENT_REQUEST_ID",
    "CONTENT_ENCODING",
    "CONTENT_TYPE",
    "DEFAULT_ORIGINATOR",
    "INCLUDE_TIMING_METRICS",
    "JSON",
    "OPENAI_BETA",
    "OPENAI_BETA_WEBSOCKETS",
    "ORIGINATOR",
    "SESSION_ID",
    "SSE",
    "THREAD_ID",
    "TURN_METADATA",
    "TURN_STATE",
    "USER_AGENT",
    "ZSTD",
    "ClientIdentity",
    "HeaderInputs",
    "default_identity",
    "encode_turn_metadata",
    "handshake_headers",
    "http_headers",
    "lower_headers",
    "provider_headers",
    "sanitize_header_value",
    "with_zstd_encoding",
]

# -- names (as sent; servers compare them case-insensitively) --------------------------------
AUTHORIZATION = "Authorization"
CHATGPT_ACCOUNT_ID = "ChatGPT-Account-ID"
ORIGINATOR = "originator"
USER_AGENT = "User-Agent"
CLIENT_REQUEST_ID = "x-client-request-id"
SESSION_ID = "session-id"
THREAD_ID = "thread-id"
BETA_FEATURES = "x-codex-beta-features"
#: The server's sticky-routing token, echoed for the rest of the turn (also a metadata key).
TURN_STATE = "x-codex-turn-state"
#: Workspace and turn details as compact JSON (also a ``client_metadata`` key of the body).
TURN_METADATA = "x-codex-turn-metadata"
OPENAI_BETA = "OpenAI-Beta"
#: Asks the server for ``responsesapi.websocket_timing`` events (feature ``runtime_metrics``);
#: sent on WebSocket handshakes only, as the reference does.
INCLUDE_TIMING_METRICS = "x-responsesapi-include-timing-metrics"
ACCEPT = "Accept"
CONTENT_TYPE = "Content-Type"
CONTENT_ENCODING = "Content-Encoding"

# -- values ------------------------------------------------------------------------------------
OPENAI_BETA_WEBSOCKETS = "responses_websockets=2026-02-06"
JSON = "application/json"
SSE = "text/event-stream"
ZSTD = "zstd"
DEFAULT_ORIGINATOR = "codex_engine"
_HEADER_UNSAFE = re.compile(r"[^\x20-\x7e]")


class ClientIdentity(msgspec.Struct, frozen=True):
    """Who is calling: the ``originator`` header and the ``User-Agent``."""

    originator: str
    user_agent: str


def sanitize_header_value(value: str) -> str:
    """Replace what an HTTP header may not carry, as the reference does for its User-Agent."""
    return _HEADER_UNSAFE.sub("_", value)


def default_identity(originator: str | None = None, suffix: str | None = None) -> ClientIdentity:
    name = originator or DEFAULT_ORIGINATOR
    ua = (
        f"{name}/{__version__} ({platform.system()} {platform.release()}; {platform.machine()}) "
        f"python/{platform.python_version()}"
    )
    if suffix:
        ua += f" ({suffix})"
    return ClientIdentity(originator=name, user_agent=sanitize_header_value(ua))


def encode_turn_metadata(metadata: Mapping[str, Any] | None) -> str | None:
    """The ``x-codex-turn-metadata`` value; ``None`` when there is nothing to send."""
    if not metadata:
        return None
    # ensure_ascii keeps the header valid whatever the paths contain.
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=True)


def provider_headers(
    static: Mapping[str, str] | None,
    from_env: Mapping[str, str] | None,
    env: Mapping[str, str],
) -> dict[str, str]:
    """A provider's ``http_headers`` plus its ``env_http_headers`` whose variable is set and
    non-empty (name -> variable)."""
    result = dict(static or {})
    for header, var in (from_env or {}).items():
        value = env.get(var, "").strip()
        if value:
            result[header] = value
    return result


class HeaderInputs(SecretRepr, msgspec.Struct, frozen=True):
    """Everything a request's headers are made of (one value per request or handshake)."""

    #: Kept out of the repr: the bearer, and provider headers (which exist to carry credentials).
    secret_fields: ClassVar[frozenset[str]] = frozenset({"bearer", "provider_headers"})

    identity: ClientIdentity
    thread_id: str
    bearer: str | None = None
    account_id: str | None = None
    #: The turn's routing token once the server sent one (never on a preconnect).
    turn_state: str | None = None
    turn_metadata: Mapping[str, Any] | None = None
    beta_features: str | None = None
    #: The provider's resolved headers (:func:`provider_headers`); ours win on a clash.
    provider_headers: Mapping[str, str] | None = None
    #: Ask for the server's timing events on a WebSocket (feature ``runtime_metrics``).
    timing_metrics: bool = False


def _common(inputs: HeaderInputs) -> dict[str, str]:
    """The headers HTTP requests and WebSocket handshakes share, in the reference's order."""
    headers: dict[str, str] = {}
    if inputs.provider_headers:
        headers.update(inputs.provider_headers)
    if inputs.beta_features:
        headers[BETA_FEATURES] = inputs.beta_features
    if inputs.turn_state is not None:
        headers[TURN_STATE] = inputs.turn_state
    metadata = encode_turn_metadata(inputs.turn_metadata)
    if metadata is not None:
        headers[TURN_METADATA] = metadata
    headers[CLIENT_REQUEST_ID] = inputs.thread_id
    headers[SESSION_ID] = inputs.thread_id
    headers[THREAD_ID] = inputs.thread_id
    if inputs.bearer is not None:
        headers[AUTHORIZATION] = f"Bearer {inputs.bearer}"
    if inputs.account_id is not None:
        headers[CHATGPT_ACCOUNT_ID] = inputs.account_id
    headers[ORIGINATOR] = inputs.identity.originator
    headers[USER_AGENT] = inputs.identity.user_agent
    return headers


def http_headers(inputs: HeaderInputs, *, zstd: bool = False) -> dict[str, str]:
    """The headers of ``POST /responses``; ``zstd`` when the body is zstd-compressed."""
    headers = _common(inputs)
    if zstd:
        headers = with_zstd_encoding(headers)
    headers[ACCEPT] = SSE
    headers[CONTENT_TYPE] = JSON
    return headers


def handshake_headers(inputs: HeaderInputs) -> dict[str, str]:
    """The headers of the WebSocket upgrade: the turn's, the preconnect's and exec's warm-up.

    The WebSocket library writes ``User-Agent`` itself; the transport hands it ours.
    """
    headers = _common(inputs)
    headers[OPENAI_BETA] = OPENAI_BETA_WEBSOCKETS
    if inputs.timing_metrics:
        headers[INCLUDE_TIMING_METRICS] = "true"
    return headers


def with_zstd_encoding(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` plus ``Content-Encoding: zstd`` (and a JSON Content-Type if none is set).

    A Content-Encoding that is already there (e.g. from a provider's ``http_headers``) would be
    contradicted, so that is a ConfigError naming the fix.
    """
    lowered = {name.lower() for name in headers}
    if CONTENT_ENCODING.lower() in lowered:
        raise ConfigError(
            "request compression is on but a Content-Encoding header is already set (check the "
            "provider's http_headers); remove that header or disable "
            "`features.enable_request_compression`"
        )
    result = dict(headers)
    result[CONTENT_ENCODING] = ZSTD
    if CONTENT_TYPE.lower() not in lowered:
        result[CONTENT_TYPE] = JSON
    return result


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A plain dict with lower-case names, as the protocol code reads response headers.

    Callers pass plain dicts, ``httpx.Headers`` or JSON objects from WebSocket frames, so names
    and values are coerced defensively; a broken mapping yields no headers rather than a crash.
    """
    lowered: dict[str, str] = {}
    try:
        items = list(headers.items())
    except Exception:
        return lowered
    for name, value in items:
        lowered[str(name).strip().lower()] = value if isinstance(value, str) else str(value)
    return lowered
