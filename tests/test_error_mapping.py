"""Server error answers become the right codex-engine error with a one-line, actionable message."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.errors import (
    ApiError,
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
from codex_engine.protocol.error_mapping import (
    FAILED_WITHOUT_DETAILS_MESSAGE,
    INVALID_IMAGE_CODE,
    WEBSOCKET_CONNECTION_LIMIT_MESSAGE,
    classify_failed_response,
    classify_http_error,
    classify_incomplete_response,
    classify_websocket_error_frame,
    format_reset_time,
    is_retryable,
    retry_after_seconds,
    usage_limit_message,
)

URL = "https://api.example.com/v1/responses"
RESETS_AT = 1_900_000_000


@pytest.fixture
def utc_local_time() -> Iterator[None]:
    """Pin the process's local time zone so reset-time text is deterministic."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def _error_body(**error: Any) -> str:
    return json.dumps({"error": error})


def assert_one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text.strip(), "message must not be empty"
    assert "\n" not in text and "\r" not in text
    assert len(text.splitlines()) == 1


# --- HTTP statuses ---------------------------------------------------------------------------

HTTP_CASES: list[tuple[str, int, str, type[CodexError], bool, str | None]] = [
    ("bad-request", 400, _error_body(message="Unknown parameter", code="unknown_parameter"),
     InvalidRequestError, False, "unknown_parameter"),
    ("bad-request-plain", 400, "nope", InvalidRequestError, False, None),
    ("cyber-policy", 400, _error_body(code="cyber_policy"), InvalidRequestError, False,
     "cyber_policy"),
    ("invalid-image", 400,
     _error_body(message="The image data you provided does not represent a valid image."),
     InvalidRequestError, False, INVALID_IMAGE_CODE),
    ("invalid-image-param", 400,
     _error_body(code="invalid_value", param="input[3].content[0].image_url", message="x"),
     InvalidRequestError, False, INVALID_IMAGE_CODE),
    ("unauthorized", 401, "", UnauthorizedError, False, None),
    ("usage-limit", 429,
     _error_body(type="usage_limit_reached", plan_type="plus", resets_at=RESETS_AT),
     UsageLimitReachedError, False, "usage_limit_reached"),
    ("usage-not-included", 429, _error_body(type="usage_not_included"), UsageNotIncludedError,
     False, "usage_not_included"),
    ("insufficient-quota", 429, _error_body(type="insufficient_quota", code="insufficient_quota"),
     QuotaExceededError, False, "insufficient_quota"),
    ("rate-limited", 429, _error_body(type="requests", message="Rate limit reached"),
     RetryLimitError, False, None),
    ("rate-limited-empty", 429, "", RetryLimitError, False, None),
    ("internal", 500, "oops", InternalServerError, True, None),
    ("overloaded", 503, _error_body(code="server_is_overloaded"), ServerOverloadedError, False,
     "server_is_overloaded"),
    ("slow-down", 503, _error_body(code="slow_down"), ServerOverloadedError, False, "slow_down"),
    ("plain-503", 503, "upstream connect error", UnexpectedStatusError, True, None),
    ("bad-gateway", 502, "<html>bad gateway</html>", UnexpectedStatusError, True, None),
    ("forbidden", 403, _error_body(code="forbidden_region"), UnexpectedStatusError, True,
     "forbidden_region"),
    ("not-found", 404, "", UnexpectedStatusError, True, None),
    ("teapot-ish", 599, "", UnexpectedStatusError, True, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "cls", "retryable", "code"),
    [case[1:] for case in HTTP_CASES],
    ids=[case[0] for case in HTTP_CASES],
)
def test_http_status_table(
    status: int, body: str, cls: type[CodexError], retryable: bool, code: str | None
) -> None:
    headers = {"X-Request-Id": "req_123"}
    exc = classify_http_error(status, headers, body.encode(), url=URL)
    assert type(exc) is cls
    assert exc.retryable is retryable
    assert is_retryable(exc) is retryable
    assert isinstance(exc, ApiError)
    assert exc.status == status
    assert exc.code == code
    assert exc.request_id == "req_123"
    assert_one_line(exc)


def test_unauthorized_message_says_how_to_fix() -> None:
    exc = classify_http_error(401, {"x-openai-authorization-error": "missing org"}, b"")
    text = str(exc).lower()
    assert "401" in text and "sign in again" in text and "api key" in text
    assert "missing org" in text


def test_cyber_policy_uses_server_message_when_given() -> None:
    body = _error_body(code="cyber_policy", message="Flagged for review.")
    assert "Flagged for review" in str(classify_http_error(400, {}, body))
    assert "cybersecurity" in str(classify_http_error(400, {}, _error_body(code="cyber_policy")))


def test_rate_limited_429_names_request_id_and_wait() -> None:
    exc = classify_http_error(429, {"x-request-id": "req_9", "retry-after": "12"}, b"")
    assert isinstance(exc, RetryLimitError)
    assert "req_9" in str(exc)
    assert "12 s" in str(exc)
    plain = classify_http_error(429, {}, b"")
    assert "wait" in str(plain)


def test_unexpected_status_message_has_all_diagnostics() -> None:
    body = "<html>\n  <head>Bad\r\ngateway</head>\n" + "x" * 1000 + "</html>"
    headers = {"X-OAI-Request-Id": "oai_7", "CF-Ray": "8abc-SJC", "content-type": "text/html"}
    exc = classify_http_error(502, headers, body, url=URL)
    text = str(exc)
    assert_one_line(exc)
    assert "502" in text
    assert URL in text
    assert "oai_7" in text
    assert "8abc-SJC" in text
    assert "<html> <head>Bad gateway</head>" in text
    assert len(text) < 500, "body excerpt must be short"
    assert isinstance(exc, ApiError) and exc.body == body


def test_request_id_prefers_x_request_id() -> None:
    exc = classify_http_error(502, {"x-oai-request-id": "b", "x-request-id": "a"}, "")
    assert isinstance(exc, ApiError) and exc.request_id == "a"


def test_error_code_from_x_error_json_header() -> None:
    import base64

    encoded = base64.b64encode(b'{"error":{"code":"account_deactivated"}}').decode()
    exc = classify_http_error(403, {"x-error-json": encoded}, "")
    assert isinstance(exc, ApiError) and exc.code == "account_deactivated"
    garbage = classify_http_error(403, {"x-error-json": "%%%"}, "")
    assert isinstance(garbage, ApiError) and garbage.code is None


def test_messages_never_echo_secrets() -> None:
    headers = {
        "authorization": "Bearer sk-supersecretvalue123",
        "x-request-id": "req_1",
        "set-cookie": "session=cookiesecret",
    }
    body = "echo: Authorization: Bearer sk-supersecretvalue123 token eyJhbGc.eyJzdWIi.c2ln"
    url = "https://user:hunter2@api.example.com/v1/responses?api-key=keysecret&api-version=1"
    for status in (400, 401, 429, 500, 502, 503):
        text = str(classify_http_error(status, headers, body, url=url))
        for secret in ("sk-supersecret", "cookiesecret", "hunter2", "keysecret", "eyJhbGc"):
            assert secret not in text, (status, text)
    text = str(classify_http_error(502, headers, body, url=url))
    assert "api.example.com/v1/responses" in text and "api-version=1" in text


# --- usage limits ----------------------------------------------------------------------------


def test_usage_limit_carries_plan_and_aware_reset_time() -> None:
    body = _error_body(type="usage_limit_reached", plan_type="pro", resets_at=RESETS_AT)
    exc = classify_http_error(429, {"x-request-id": "r"}, body)
    assert isinstance(exc, UsageLimitReachedError)
    assert exc.plan_type == "pro"
    assert exc.resets_at == datetime.fromtimestamp(RESETS_AT, tz=UTC)
    assert exc.resets_at is not None and exc.resets_at.tzinfo is not None
    assert str(exc).startswith("You've reached your usage limit; it resets at ")
    assert format_reset_time(exc.resets_at) in str(exc)
    assert_one_line(exc)


def test_usage_limit_without_reset_time() -> None:
    exc = classify_http_error(429, {}, _error_body(type="usage_limit_reached"))
    assert isinstance(exc, UsageLimitReachedError)
    assert exc.resets_at is None and exc.plan_type is None
    assert_one_line(exc)


@pytest.mark.parametrize("resets_at", ["soon", 1e300, float("nan"), True, -1e20])
def test_usage_limit_with_unusable_reset_time(resets_at: object) -> None:
    body = json.dumps({"error": {"type": "usage_limit_reached", "resets_at": resets_at}})
    exc = classify_http_error(429, {}, body)
    assert isinstance(exc, UsageLimitReachedError) and exc.resets_at is None


def test_usage_limit_hints_depend_on_plan() -> None:
    plans = ["free", "plus", "pro", "team", "business", "enterprise", "edu", "unknown", None]
    hints = {plan: usage_limit_message(plan, None) for plan in plans}
    assert "admin" in hints["team"] and hints["team"] == hints["enterprise"] == hints["edu"]
    assert hints["business"] == hints["team"]
    assert "Pro" in hints["plus"]
    assert hints["free"] != hints["plus"] != hints["pro"]
    assert hints["unknown"] == hints[None]
    assert len({hints["free"], hints["plus"], hints["pro"], hints["team"], hints[None]}) == 5
    for text in hints.values():
        assert "\n" not in text and text.startswith("You've reached your usage limit")


def test_promo_message_replaces_plan_hint() -> None:
    body = _error_body(type="usage_limit_reached", plan_type="plus")
    exc = classify_http_error(429, {"x-codex-promo-message": "Try\nour new plan"}, body)
    assert str(exc).endswith("Try our new plan")


def test_reset_time_is_local_and_mentions_date_only_when_not_today(utc_local_time: None) -> None:
    now = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    assert format_reset_time(datetime(2030, 3, 4, 14, 5, tzinfo=UTC), now=now) == "14:05 UTC"
    later = format_reset_time(datetime(2030, 3, 6, 9, 30, tzinfo=UTC), now=now)
    assert later == "09:30 UTC on Mar 6, 2030"
    message = usage_limit_message("pro", datetime(2030, 3, 4, 14, 5, tzinfo=UTC), now=now)
    assert message.startswith("You've reached your usage limit; it resets at 14:05 UTC. ")


# --- Retry-After -----------------------------------------------------------------------------

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "junk", "retry-after": "3"}, 3.0),
        ({"retry-after": format_datetime(NOW + timedelta(seconds=30), usegmt=True)}, 30.0),
        ({"retry-after": format_datetime(NOW - timedelta(seconds=30), usegmt=True)}, 0.0),
        ({"retry-after": "Wed, 01 Jan 2030 12:00:10"}, 10.0),
        ({"retry-after": "3600"}, 60.0),
        ({"retry-after-ms": "999999999"}, 60.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    got = retry_after_seconds(headers, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_retry_after_cap_is_configurable() -> None:
    assert retry_after_seconds({"retry-after": "100"}, cap=10.0) == 10.0
    assert retry_after_seconds({"retry-after": "100"}, cap=1000.0) == 100.0


# --- response.failed / response.incomplete ---------------------------------------------------

FAILED_CASES: list[tuple[str, dict[str, Any], type[CodexError], bool]] = [
    ("context", {"code": "context_length_exceeded", "message": "too long"},
     ContextWindowExceededError, False),
    ("quota", {"code": "insufficient_quota", "message": "no quota"}, QuotaExceededError, False),
    ("not-included", {"code": "usage_not_included"}, UsageNotIncludedError, False),
    ("invalid-prompt", {"code": "invalid_prompt", "message": "bad prompt"}, InvalidRequestError,
     False),
    ("overloaded", {"code": "server_is_overloaded"}, ServerOverloadedError, False),
    ("slow-down", {"code": "slow_down"}, ServerOverloadedError, False),
    ("cyber", {"code": "cyber_policy"}, InvalidRequestError, False),
    ("usage-limit", {"type": "usage_limit_reached", "plan_type": "free",
                     "resets_at": RESETS_AT}, UsageLimitReachedError, False),
    ("other", {"code": "server_error", "message": "An error occurred."}, StreamError, True),
    ("rate-limit", {"code": "rate_limit_exceeded", "message": "Try again in 2s."}, StreamError,
     True),
    ("message-only", {"message": "boom"}, StreamError, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "cls", "retryable"),
    [case[1:] for case in FAILED_CASES],
    ids=[case[0] for case in FAILED_CASES],
)
def test_failed_response_table(
    error: dict[str, Any], cls: type[CodexError], retryable: bool
) -> None:
    exc = classify_failed_response({"id": "resp_1", "status": "failed", "error": error})
    assert type(exc) is cls
    assert exc.retryable is retryable
    assert_one_line(exc)


def test_failed_response_keeps_server_wording_for_invalid_prompt() -> None:
    exc = classify_failed_response({"error": {"code": "invalid_prompt", "message": "Bad words"}})
    assert "Bad words" in str(exc)


def test_failed_usage_limit_keeps_reset_time() -> None:
    exc = classify_failed_response(
        {"error": {"code": "usage_limit_reached", "plan_type": "team", "resets_at": RESETS_AT}}
    )
    assert isinstance(exc, UsageLimitReachedError)
    assert exc.resets_at == datetime.fromtimestamp(RESETS_AT, tz=UTC)
    assert exc.plan_type == "team" and exc.status is None


@pytest.mark.parametrize(
    ("message", "delay"),
    [
        ("Rate limit reached for gpt-5. Please try again in 1.5s. Visit ...", 1.5),
        ("Please try again in 250ms.", 0.25),
        ("Please TRY AGAIN IN 3 seconds.", 3.0),
        ("Please try again in 1 second.", 1.0),
        ("Please try again in 7S", 7.0),
        ("Please try again later.", None),
        ("Please try again in 5 minutes.", None),
    ],
)
def test_rate_limit_exceeded_delay(message: str, delay: float | None) -> None:
    exc = classify_failed_response({"error": {"code": "rate_limit_exceeded", "message": message}})
    assert isinstance(exc, StreamError)
    assert exc.delay == (pytest.approx(delay) if delay is not None else None)


def test_delay_is_read_only_for_rate_limit_exceeded() -> None:
    exc = classify_failed_response(
        {"error": {"code": "server_error", "message": "try again in 2s"}}
    )
    assert isinstance(exc, StreamError) and exc.delay is None


@pytest.mark.parametrize(
    "response",
    [None, {}, {"error": None}, {"error": "boom"}, {"error": {}}, {"error": {"code": 5}}],
)
def test_failed_response_without_details(response: dict[str, Any] | None) -> None:
    exc = classify_failed_response(response)
    assert type(exc) is StreamError
    assert str(exc) == FAILED_WITHOUT_DETAILS_MESSAGE
    assert exc.retryable


def test_incomplete_response_names_the_reason() -> None:
    exc = classify_incomplete_response({"incomplete_details": {"reason": "max_output_tokens"}})
    assert isinstance(exc, StreamError) and exc.retryable
    assert "reason: max_output_tokens" in str(exc)
    responses: list[dict[str, Any] | None] = [
        None,
        {},
        {"incomplete_details": None},
        {"incomplete_details": {}},
    ]
    for response in responses:
        unknown = classify_incomplete_response(response)
        assert "reason: unknown" in str(unknown)
        assert_one_line(unknown)


# --- WebSocket error frames ------------------------------------------------------------------


def _same_error(a: CodexError, b: CodexError) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b)
    assert vars(a) == vars(b)


WS_CASES: list[tuple[int, dict[str, Any]]] = [
    (429, {"type": "usage_limit_reached", "plan_type": "plus", "resets_at": RESETS_AT}),
    (429, {"type": "usage_not_included"}),
    (429, {"type": "rate_limit", "message": "slow"}),
    (400, {"code": "cyber_policy"}),
    (400, {"message": "bad"}),
    (401, {"message": "expired"}),
    (500, {"message": "oops"}),
    (503, {"code": "server_is_overloaded"}),
    (502, {"message": "bad gateway"}),
]


@pytest.mark.parametrize(("status", "error"), WS_CASES)
@pytest.mark.parametrize("status_key", ["status", "status_code"])
def test_websocket_error_frames_map_like_http(
    status: int, error: dict[str, Any], status_key: str
) -> None:
    headers = {"x-request-id": "req_ws", "cf-ray": "ray1", "x-codex-primary-used-percent": "100"}
    frame = {"type": "error", status_key: status, "error": error, "headers": headers}
    raw = json.dumps(frame)
    from_frame = classify_websocket_error_frame(json.loads(raw), raw=raw, url=URL)
    assert from_frame is not None
    _same_error(from_frame, classify_http_error(status, headers, raw, url=URL))
    # Without the received text the frame is re-serialised; the mapping is the same.
    reserialised = classify_websocket_error_frame(frame)
    assert reserialised is not None and type(reserialised) is type(from_frame)


def test_websocket_frame_headers_with_non_string_values() -> None:
    frame = {"type": "error", "status": 429, "error": {}, "headers": {"retry-after": 7, "x": None}}
    exc = classify_websocket_error_frame(frame)
    assert isinstance(exc, RetryLimitError) and "7 s" in str(exc)


def test_websocket_connection_limit_is_retryable() -> None:
    frame = {
        "type": "error",
        "status": 400,
        "error": {"type": "invalid_request_error", "code": "websocket_connection_limit_reached"},
    }
    exc = classify_websocket_error_frame(frame)
    assert type(exc) is StreamError and exc.retryable
    assert str(exc) == WEBSOCKET_CONNECTION_LIMIT_MESSAGE
    no_status = {"type": "error", "error": {"code": "websocket_connection_limit_reached"}}
    assert isinstance(classify_websocket_error_frame(no_status), StreamError)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "error", "error": {"message": "no status"}},
        {"type": "error", "status": 200, "error": {}},
        {"type": "error", "status": "abc"},
        {"type": "error", "status": True},
        {"type": "response.created", "status": 500},
        {},
    ],
)
def test_websocket_frames_that_are_ignored(frame: dict[str, Any]) -> None:
    assert classify_websocket_error_frame(frame) is None


# --- helpers ---------------------------------------------------------------------------------


def test_is_retryable_only_for_codex_errors() -> None:
    assert is_retryable(StreamError("x"))
    assert not is_retryable(RetryLimitError("x"))
    assert not is_retryable(ValueError("x"))


# --- properties ------------------------------------------------------------------------------

_HEADER_NAMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "x-request-id",
            "x-oai-request-id",
            "cf-ray",
            "retry-after",
            "retry-after-ms",
            "x-error-json",
            "x-openai-authorization-error",
            "x-codex-promo-message",
        ]
    ),
)
_ERROR_FIELDS = st.dictionaries(
    st.sampled_from(["type", "code", "message", "plan_type", "resets_at", "param"]),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(),
        st.sampled_from(["usage_limit_reached", "usage_not_included", "cyber_policy", "slow_down"]),
    ),
)
_BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    _ERROR_FIELDS.map(lambda error: json.dumps({"error": error})),
)


@given(st.integers(400, 599), st.dictionaries(_HEADER_NAMES, st.text(max_size=60)), _BODIES)
def test_http_mapping_never_raises_and_stays_one_line(
    status: int, headers: dict[str, str], body: bytes | str
) -> None:
    exc = classify_http_error(status, headers, body, url=URL)
    assert isinstance(exc, ApiError)
    assert_one_line(exc)


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=20)))
def test_retry_after_never_raises(headers: dict[str, str]) -> None:
    value = retry_after_seconds(headers)
    assert value is None or 0.0 <= value <= 60.0


@given(_ERROR_FIELDS, st.sampled_from(["context_length_exceeded", "rate_limit_exceeded", None]))
def test_failed_mapping_never_raises(error: dict[str, Any], code: str | None) -> None:
    if code is not None:
        error = {**error, "code": code}
    exc = classify_failed_response({"error": error})
    assert_one_line(exc)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)


@given(
    st.fixed_dictionaries(
        {"type": st.just("error")},
        optional={
            "status": st.one_of(st.integers(), _JSON),
            "status_code": st.integers(400, 599),
            "error": st.one_of(_ERROR_FIELDS, _JSON),
            "headers": st.one_of(st.dictionaries(_HEADER_NAMES, _JSON), _JSON),
        },
    )
)
def test_websocket_frame_mapping_never_raises(frame: dict[str, Any]) -> None:
    exc = classify_websocket_error_frame(frame)
    if exc is not None:
        assert_one_line(exc)
