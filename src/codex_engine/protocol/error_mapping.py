"""Map server error answers (HTTP statuses, failed/incomplete responses, WebSocket error frames)
to :mod:`codex_engine.errors` classes, plus ``Retry-After`` parsing. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from codex_engine.errors import (
    CodexError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidRequestError,
    QuotaExceededError,
    RetryLimitError,
    ServerOverloadedError,
    StreamError,
    UnauthorizedError,
    UnexpectedStatusError,
    UsageLimitReachedError,
    UsageNotIncludedError,
)
from codex_engine.protocol.headers import lower_headers

__all__ = [
    "FAILED_WITHOUT_DETAILS_MESSAGE",
    "INVALID_IMAGE_CODE",
    "WEBSOCKET_CONNECTION_LIMIT_MESSAGE",
    "classify_failed_response",
    "classify_http_error",
    "classify_incomplete_response",
    "classify_websocket_error_frame",
    "format_reset_time",
    "is_retryable",
    "retry_after_seconds",
    "usage_limit_message",
]

#: ``ApiError.code`` given to a 400 caused by an unreadable image (the server has no single code
#: for it), so the turn loop can drop the image instead of failing the whole conversation again.
INVALID_IMAGE_CODE = "invalid_image_request"

FAILED_WITHOUT_DETAILS_MESSAGE = (
    "The server failed the response without saying why (response.failed); retrying may help."
)
WEBSOCKET_CONNECTION_LIMIT_MESSAGE = (
    "The server closed the WebSocket session because it reached its 60-minute lifetime; "
    "a new connection will be opened to continue."
)

_EXCERPT_CHARS = 200
_OVERLOADED_CODES = frozenset({"server_is_overloaded", "slow_down"})
_BUSINESS_PLANS = frozenset(
    {"team", "business", "enterprise", "edu", "education", "self_serve_business_usage_based"}
)
_USAGE_URL = "https://chatgpt.com/settings/usage"

_RETRY_DELAY_RE = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|seconds?|s)\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+")
# Bodies sometimes echo what was sent (a proxy's debug page, a misconfigured gateway); tokens must
# never reach a terminal or a log through an error message.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
)
_SECRET_QUERY_KEY_RE = re.compile(r"(?i)key|token|secret|sig|password|auth")


# --- public API ------------------------------------------------------------------------------


def classify_http_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    url: str | None = None,
) -> CodexError:
    """Return the codex-engine error for a non-success HTTP answer received before any stream.

    Never raises; every message is a single non-empty line that names the cause and the fix.
    401 maps to :class:`UnauthorizedError`; the auth layer decides whether to recover first.
    """
    lowered = lower_headers(headers)
    text = _decode_body(body)
    error = _error_object(text)
    code = _str_field(error, "code")
    kind = _str_field(error, "type")
    server_message = _str_field(error, "message")
    request_id = _request_id(lowered)
    where = _context(request_id=request_id)

    if status == 400:
        return _bad_request(error, code, server_message, text, request_id)
    if status == 401:
        detail = _one_line(lowered.get("x-openai-authorization-error", ""), _EXCERPT_CHARS)
        detail_part = f": {detail}" if detail else ""
        return UnauthorizedError(
            f"The server refused the credentials (HTTP 401{where}){detail_part}; sign in again, "
            "or check that the API key is correct and still active.",
            status=status,
            code=code,
            request_id=request_id,
            body=text,
        )
    if status == 429:
        if "usage_limit_reached" in (kind, code):
            plan_type = _str_field(error, "plan_type")
            resets_at = _resets_at(error)
            promo = lowered.get("x-codex-promo-message")
            return UsageLimitReachedError(
                usage_limit_message(plan_type, resets_at, promo_message=promo),
                plan_type=plan_type,
                resets_at=resets_at,
                status=status,
                request_id=request_id,
            )
        if "usage_not_included" in (kind, code):
            return UsageNotIncludedError(
                _usage_not_included_message(f" (HTTP 429{where})"),
                status=status,
                code="usage_not_included",
                request_id=request_id,
                body=text,
            )
        if "insufficient_quota" in (kind, code):
            return QuotaExceededError(
                f"The account has run out of quota (HTTP 429{where}){_server_said(server_message)}"
                "; check the plan and billing settings, then try again.",
                status=status,
                code="insufficient_quota",
                request_id=request_id,
                body=text,
            )
        wait = retry_after_seconds(lowered, cap=3600.0)
        advice = f"wait about {math.ceil(wait)} s" if wait else "wait a minute"
        said = _server_said(server_message)
        return RetryLimitError(
            f"The server is rate limiting requests (HTTP 429{where}){said}; "
            f"{advice} and try again.",
            status=status,
            code=code,
            request_id=request_id,
            body=text,
        )
    if status == 500:
        return InternalServerError(
            f"The server hit an internal error (HTTP 500{where}){_server_said(server_message)}; "
            "this is usually temporary, so try again shortly.",
            status=status,
            code=code,
            request_id=request_id,
            body=text,
        )
    if status == 503 and (code in _OVERLOADED_CODES or kind in _OVERLOADED_CODES):
        return ServerOverloadedError(
            f"The server is overloaded and asked clients to back off (HTTP 503{where}); "
            "wait a few minutes and try again.",
            status=status,
            code=code or kind,
            request_id=request_id,
            body=text,
        )
    return _unexpected_status(status, lowered, text, code, request_id, url)


def retry_after_seconds(
    headers: Mapping[str, str], *, cap: float = 60.0, now: datetime | None = None
) -> float | None:
    """Server-requested wait in seconds, at most ``cap``; None when absent or unparsable.

    ``retry-after-ms`` wins over ``Retry-After``; the latter may be seconds or an HTTP date
    (a date in the past means "now", 0.0). ``now`` exists for tests.
    """
    lowered = lower_headers(headers)
    millis = _parse_non_negative(lowered.get("retry-after-ms"))
    if millis is not None:
        return min(millis / 1000.0, cap)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _parse_non_negative(raw)
    if seconds is not None:
        return min(seconds, cap)
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT; a naive parse means "-0000".
    reference = now if now is not None else datetime.now(UTC)
    try:
        delta = (when - reference).total_seconds()
    except OverflowError:
        return None
    return min(max(delta, 0.0), cap)


def classify_failed_response(response: Mapping[str, Any] | None) -> CodexError:
    """Map the ``response`` object of a ``response.failed`` event to an error.

    Unknown codes become a retryable :class:`StreamError`; for ``rate_limit_exceeded`` its
    ``delay`` carries the wait the server asked for in the message ("try again in 1.5s").
    """
    error = response.get("error") if isinstance(response, Mapping) else None
    if not isinstance(error, Mapping):
        return StreamError(FAILED_WITHOUT_DETAILS_MESSAGE)
    code = _str_field(error, "code")
    kind = _str_field(error, "type")
    message = _str_field(error, "message")
    said = _server_said(message)

    if code == "context_length_exceeded":
        return ContextWindowExceededError(
            "The conversation no longer fits in the model's context window; "
            "compact it or start a new conversation.",
            code=code,
        )
    if code == "insufficient_quota":
        return QuotaExceededError(
            f"The account has run out of quota{said}; "
            "check the plan and billing settings, then try again.",
            code=code,
        )
    if code == "usage_not_included":
        return UsageNotIncludedError(_usage_not_included_message(""), code=code)
    if "usage_limit_reached" in (code, kind):
        plan_type = _str_field(error, "plan_type")
        resets_at = _resets_at(error)
        return UsageLimitReachedError(
            usage_limit_message(plan_type, resets_at),
            plan_type=plan_type,
            resets_at=resets_at,
            status=None,
        )
    if code == "cyber_policy":
        return InvalidRequestError(_cyber_policy_message(message), code=code)
    if code == "invalid_prompt":
        return InvalidRequestError(
            f"The server rejected the prompt as invalid{said}; rephrase the request and try again.",
            code=code,
        )
    if code in _OVERLOADED_CODES:
        return ServerOverloadedError(
            "The server is overloaded and asked clients to back off; "
            "wait a few minutes and try again.",
            code=code,
        )
    if code is None and not message:
        return StreamError(FAILED_WITHOUT_DETAILS_MESSAGE)
    delay = _retry_delay(message) if code == "rate_limit_exceeded" and message else None
    safe_code = _one_line(code or "", 80)
    label = f" ({safe_code})" if safe_code else ""
    return StreamError(
        f"The server failed the response{label}{said}; retrying may help.", delay=delay
    )


def classify_incomplete_response(response: Mapping[str, Any] | None) -> CodexError:
    """Map the ``response`` object of a ``response.incomplete`` event to a retryable error."""
    reason: str | None = None
    if isinstance(response, Mapping):
        details = response.get("incomplete_details")
        if isinstance(details, Mapping):
            reason = _str_field(details, "reason")
    reason = _one_line(reason or "", 80) or "unknown"
    return StreamError(
        f"The server ended the response before it was complete (reason: {reason}); "
        "retrying may help."
    )


def classify_websocket_error_frame(
    frame: Mapping[str, Any], *, raw: str | None = None, url: str | None = None
) -> CodexError | None:
    """Map a WebSocket ``{"type": "error", ...}`` frame; None for frames to ignore.

    A frame with a non-2xx ``status``/``status_code`` maps exactly as :func:`classify_http_error`
    would map that status, with the frame's ``headers`` object as headers and the frame text as
    body. Pass the received text as ``raw`` so the body is byte-identical; otherwise the frame is
    re-serialised. Error frames without a status are ignored, like the reference does.
    """
    if not isinstance(frame, Mapping) or frame.get("type") != "error":
        return None
    error = frame.get("error")
    if _str_field(error, "code") == "websocket_connection_limit_reached":
        return StreamError(WEBSOCKET_CONNECTION_LIMIT_MESSAGE)
    status = _status_of(frame)
    if status is None or 200 <= status < 300:
        return None
    headers = frame.get("headers")
    frame_headers: dict[str, str] = {}
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if value is None:
                continue
            frame_headers[str(name)] = value if isinstance(value, str) else _json_text(value)
    body = raw if raw is not None else _json_text(frame)
    return classify_http_error(status, frame_headers, body, url=url)


def is_retryable(exc: BaseException) -> bool:
    """True when repeating the request may succeed: a :class:`CodexError` that says so."""
    return isinstance(exc, CodexError) and exc.retryable


def usage_limit_message(
    plan_type: str | None,
    resets_at: datetime | None,
    *,
    promo_message: str | None = None,
    now: datetime | None = None,
) -> str:
    """One-line text for a reached usage limit: when it resets and what the plan allows next.

    A server promo message (``x-codex-promo-message``) replaces the plan hint when present.
    """
    if resets_at is not None:
        when = format_reset_time(resets_at, now=now)
        head = f"You've reached your usage limit; it resets at {when}."
    else:
        head = "You've reached your usage limit; try again once it resets."
    hint = _one_line(_redact(promo_message or ""), _EXCERPT_CHARS) or _plan_hint(plan_type)
    return f"{head} {hint}"


def format_reset_time(resets_at: datetime, *, now: datetime | None = None) -> str:
    """Render ``resets_at`` in the local time zone: ``14:05 CEST`` today, else with the date."""
    try:
        local = resets_at.astimezone()
        local_now = (now if now is not None else datetime.now(UTC)).astimezone()
        zone = local.tzname() or local.strftime("%z")
        clock = f"{local:%H:%M} {zone}".strip()
        if local.date() == local_now.date():
            return clock
        return f"{clock} on {local:%b} {local.day}, {local.year}"
    except (OverflowError, ValueError, OSError):
        # Extreme dates cannot be moved to local time; the UTC form is still exact.
        return resets_at.isoformat()


# --- 4xx/5xx details -------------------------------------------------------------------------


def _bad_request(
    error: Mapping[str, Any] | None,
    code: str | None,
    server_message: str | None,
    text: str,
    request_id: str | None,
) -> InvalidRequestError:
    where = _context(request_id=request_id)
    if code == "cyber_policy":
        return InvalidRequestError(
            _cyber_policy_message(server_message),
            status=400,
            code=code,
            request_id=request_id,
            body=text,
        )
    if _is_invalid_image(error, code, server_message, text):
        return InvalidRequestError(
            f"The server could not read an image attached to the request (HTTP 400{where}); "
            "remove or replace the image and try again.",
            status=400,
            code=INVALID_IMAGE_CODE,
            request_id=request_id,
            body=text,
        )
    detail = _server_said(server_message) or _server_said(text)
    return InvalidRequestError(
        f"The server rejected the request as invalid (HTTP 400{where}){detail}; check the model "
        "name and settings, and report a codex-engine bug if they look right.",
        status=400,
        code=code,
        request_id=request_id,
        body=text,
    )


def _is_invalid_image(
    error: Mapping[str, Any] | None, code: str | None, server_message: str | None, text: str
) -> bool:
    if "does not represent a valid image" in text:
        return True
    param = _str_field(error, "param") or ""
    if code == "invalid_value" and param.endswith("image_url"):
        return True
    lowered = (server_message or "").lower()
    return "image_url" in lowered and "empty" in lowered and "base64" in lowered


def _unexpected_status(
    status: int,
    lowered: Mapping[str, str],
    text: str,
    code: str | None,
    request_id: str | None,
    url: str | None,
) -> UnexpectedStatusError:
    try:
        label = f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        label = f"HTTP {status}"
    target = f" for {_safe_url(url)}" if url else ""
    where = _context(request_id=request_id, cf_ray=lowered.get("cf-ray"))
    ids = f" ({where.removeprefix(', ')})" if where else ""
    auth_detail = _one_line(lowered.get("x-openai-authorization-error", ""), _EXCERPT_CHARS)
    auth_part = f", authorization error: {auth_detail}" if auth_detail else ""
    excerpt = _one_line(_redact(text), _EXCERPT_CHARS) or "(empty body)"
    return UnexpectedStatusError(
        f"The server answered {label}{target}{ids}{auth_part}: {excerpt}. This is often "
        "temporary: try again, and quote the request id if you report it.",
        status=status,
        code=code or _header_error_code(lowered),
        request_id=request_id,
        body=text,
    )


def _usage_not_included_message(where: str) -> str:
    return (
        f"Your ChatGPT plan does not include Codex{where}; upgrade the plan, "
        "or sign in with an OpenAI API key instead."
    )


def _cyber_policy_message(server_message: str | None) -> str:
    said = _server_said(server_message)
    if said:
        return (
            f"The server declined the request under its cybersecurity policy{said}; "
            "rephrase the request or remove the flagged content."
        )
    return (
        "The server declined the request because it was flagged as a possible cybersecurity "
        "risk; rephrase the request or remove the flagged content."
    )


def _plan_hint(plan_type: str | None) -> str:
    plan = (plan_type or "").strip().lower()
    if plan in ("free", "go"):
        return (
            "To keep working sooner, move to a paid ChatGPT plan with higher limits "
            "(https://chatgpt.com/explore/plus)."
        )
    if plan == "plus":
        return (
            "To keep working sooner, upgrade to Pro (https://chatgpt.com/explore/pro) "
            f"or buy credits at {_USAGE_URL}."
        )
    if plan == "pro":
        return f"To keep working sooner, buy credits at {_USAGE_URL}."
    if plan in _BUSINESS_PLANS:
        return (
            "To keep working sooner, ask your workspace admin for more credits or a higher limit."
        )
    return f"See your usage and options at {_USAGE_URL}."


def _resets_at(error: Mapping[str, Any] | None) -> datetime | None:
    if error is None:
        return None
    seconds = _finite_number(error.get("resets_at"))
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    # Some backends send a relative value instead; it is anchored to the time we parse it.
    relative = _finite_number(error.get("resets_in_seconds"))
    if relative is not None and relative >= 0:
        try:
            return datetime.now(UTC) + timedelta(seconds=relative)
        except OverflowError:
            return None
    return None


def _retry_delay(message: str) -> float | None:
    match = _RETRY_DELAY_RE.search(message)
    if match is None:
        return None
    value = float(match.group(1))
    return value / 1000.0 if match.group(2).lower() == "ms" else value


def _header_error_code(lowered: Mapping[str, str]) -> str | None:
    # `x-error-json` carries base64 JSON `{"error": {"code": ...}}` when the body is not JSON.
    raw = lowered.get("x-error-json")
    if not raw:
        return None
    compact = "".join(raw.split())
    padded = compact + "=" * (-len(compact) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            decoded = decode(padded.encode("ascii")).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeError):
            continue
        code = _str_field(_error_object(decoded), "code")
        if code:
            return code
    return None


def _status_of(frame: Mapping[str, Any]) -> int | None:
    for key in ("status", "status_code"):
        value = frame.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
            return int(value.strip())
    return None


# --- small helpers ---------------------------------------------------------------------------


def _decode_body(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def _error_object(text: str) -> Mapping[str, Any] | None:
    try:
        # strict=False: some servers put raw newlines inside JSON strings.
        parsed = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping):
            return error
    return None


def _str_field(obj: object, key: str) -> str | None:
    if not isinstance(obj, Mapping):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()):
        return float(value.strip())
    return None


def _parse_non_negative(raw: str | None) -> float | None:
    if raw is None:
        return None
    text = raw.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _request_id(lowered: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "x-oai-request-id"):
        value = _one_line(lowered.get(name, ""), 100)
        if value:
            return value
    return None


def _context(*, request_id: str | None = None, cf_ray: str | None = None) -> str:
    parts: list[str] = []
    if request_id:
        parts.append(f"request id {request_id}")
    ray = _one_line(cf_ray or "", 100)
    if ray:
        parts.append(f"cf-ray {ray}")
    return "".join(f", {part}" for part in parts)


def _server_said(message: str | None) -> str:
    # Trailing punctuation is dropped because our own clause follows the excerpt.
    excerpt = _one_line(_redact(message or ""), _EXCERPT_CHARS).rstrip(" .;:,")
    return f": {excerpt}" if excerpt else ""


def _one_line(text: str, limit: int) -> str:
    # str.split() without arguments also splits on \r, \x1c-\x1f, \u2028 and other separators
    # that would break the one-line promise; other control characters are blanked first.
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    collapsed = " ".join(printable.split())
    if len(collapsed) > limit:
        return collapsed[: limit - 1].rstrip() + "…"
    return collapsed


def _redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def _safe_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        query = "&".join(_redact_query_pair(pair) for pair in parts.query.split("&") if pair)
        cleaned = urlunsplit((parts.scheme, host if parts.netloc else "", parts.path, query, ""))
    except ValueError:
        cleaned = url.split("?", 1)[0]
    return _one_line(_redact(cleaned), 300)


def _redact_query_pair(pair: str) -> str:
    key, sep, _value = pair.partition("=")
    return f"{key}=[redacted]" if sep and _SECRET_QUERY_KEY_RE.search(key) else pair


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)
