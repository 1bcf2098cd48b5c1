"""Map server error answers (HTTP statuses, failed/incomplete responses, WebSocket error frames)
to :mod:`codex_engine.errors` classes. Pure functions, no I/O; the excerpt helpers are in
``error_text``, waits in ``retry_after``, usage-limit texts in ``usage_limits``.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

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
from codex_engine.protocol.error_text import (
    EXCERPT_CHARS,
    decode_body,
    error_object,
    id_suffix,
    json_text,
    one_line,
    redact_secrets,
    request_id_from,
    safe_url,
    server_said,
    str_field,
)
from codex_engine.protocol.headers import lower_headers
from codex_engine.protocol.retry_after import retry_after_seconds, retry_delay_in_message
from codex_engine.protocol.usage_limits import (
    format_reset_time,
    resets_at_of,
    usage_limit_message,
    usage_not_included_message,
)

# retry_after_seconds, usage_limit_message and format_reset_time live in their own modules and
# stay importable from here.
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

_OVERLOADED_CODES = frozenset({"server_is_overloaded", "slow_down"})


# --- public API -----------------------------------------------------------------------------


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
    text = decode_body(body)
    error = error_object(text)
    code = str_field(error, "code")
    kind = str_field(error, "type")
    server_message = str_field(error, "message")
    request_id = request_id_from(lowered)
    where = id_suffix(request_id=request_id)

    if status == 400:
        return _bad_request(error, code, server_message, text, request_id)
    if status == 401:
        detail = one_line(lowered.get("x-openai-authorization-error", ""), EXCERPT_CHARS)
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
            plan_type = str_field(error, "plan_type")
            resets_at = resets_at_of(error)
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
                usage_not_included_message(f" (HTTP 429{where})"),
                status=status,
                code="usage_not_included",
                request_id=request_id,
                body=text,
            )
        wait = retry_after_seconds(lowered, cap=3600.0)
        advice = f"wait about {math.ceil(wait)} s" if wait else "wait a minute"
        said = server_said(server_message)
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
            f"The server hit an internal error (HTTP 500{where}){server_said(server_message)}; "
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


def classify_failed_response(response: Mapping[str, Any] | None) -> CodexError:
    """Map the ``response`` object of a ``response.failed`` event to an error.

    Unknown codes become a retryable :class:`StreamError`; for ``rate_limit_exceeded`` its
    ``delay`` carries the wait the server asked for in the message ("try again in 1.5s").
    """
    error = response.get("error") if isinstance(response, Mapping) else None
    if not isinstance(error, Mapping):
        return StreamError(FAILED_WITHOUT_DETAILS_MESSAGE)
    code = str_field(error, "code")
    kind = str_field(error, "type")
    message = str_field(error, "message")
    said = server_said(message)

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
        return UsageNotIncludedError(usage_not_included_message(""), code=code)
    if "usage_limit_reached" in (code, kind):
        plan_type = str_field(error, "plan_type")
        resets_at = resets_at_of(error)
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
    delay = retry_delay_in_message(message) if code == "rate_limit_exceeded" and message else None
    safe_code = one_line(code or "", 80)
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
            reason = str_field(details, "reason")
    reason = one_line(reason or "", 80) or "unknown"
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
    if str_field(error, "code") == "websocket_connection_limit_reached":
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
            frame_headers[str(name)] = value if isinstance(value, str) else json_text(value)
    body = raw if raw is not None else json_text(frame)
    return classify_http_error(status, frame_headers, body, url=url)


def is_retryable(exc: BaseException) -> bool:
    """True when repeating the request may succeed: a :class:`CodexError` that says so."""
    return isinstance(exc, CodexError) and exc.retryable


# --- 4xx/5xx details -------------------------------------------------------------------------


def _bad_request(
    error: Mapping[str, Any] | None,
    code: str | None,
    server_message: str | None,
    text: str,
    request_id: str | None,
) -> InvalidRequestError:
    where = id_suffix(request_id=request_id)
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
    detail = server_said(server_message) or server_said(text)
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
    param = str_field(error, "param") or ""
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
    target = f" for {safe_url(url)}" if url else ""
    where = id_suffix(request_id=request_id, cf_ray=lowered.get("cf-ray"))
    ids = f" ({where.removeprefix(', ')})" if where else ""
    auth_detail = one_line(lowered.get("x-openai-authorization-error", ""), EXCERPT_CHARS)
    auth_part = f", authorization error: {auth_detail}" if auth_detail else ""
    excerpt = one_line(redact_secrets(text), EXCERPT_CHARS) or "(empty body)"
    return UnexpectedStatusError(
        f"The server answered {label}{target}{ids}{auth_part}: {excerpt}. This is often "
        "temporary: try again, and quote the request id if you report it.",
        status=status,
        code=code or _header_error_code(lowered),
        request_id=request_id,
        body=text,
    )


def _cyber_policy_message(server_message: str | None) -> str:
    said = server_said(server_message)
    if said:
        return (
            f"The server declined the request under its cybersecurity policy{said}; "
            "rephrase the request or remove the flagged content."
        )
    return (
        "The server declined the request because it was flagged as a possible cybersecurity "
        "risk; rephrase the request or remove the flagged content."
    )


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
        code = str_field(error_object(decoded), "code")
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
