"""Credential redaction: which headers are secrets, hiding them in text, and the HTTP and
WebSocket libraries' debug logs and errors in process (the CLI runs are in test_auth_redaction)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.client.events import ClientEvent
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.errors import CodexError, ConfigError
from codex_engine.protocol.items import user_message
from codex_engine.protocol.redaction import (
    REDACTED,
    is_credential_header,
    redact_headers,
    redact_text,
    redact_url,
    request_secrets,
)
from codex_engine.protocol.request import Prompt, RequestContext
from codex_engine.transport.log_redaction import LIBRARY_LOG_FILTER, redact_log_args
from tests.canaries import CanaryRegistry
from tests.conftest import SleepRecorder, make_client

CTX = RequestContext(model="gpt-5.1-codex", thread_id="thread-1", turn_id="turn-1")


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "x-api-key",
        "api-key",
        "API_KEY",
        "x-goog-api-key",
        "X-Auth-Token",
        "x-amz-security-token",
        "x-client-secret",
        "db-password",
        "x-signature",
    ],
)
def test_credential_looking_names(name: str) -> None:
    assert is_credential_header(name)


@pytest.mark.parametrize(
    "name",
    [
        "content-type",
        "user-agent",
        "originator",
        "session-id",
        "x-request-id",
        "x-codex-turn-state",
        "chatgpt-account-id",
        "sec-websocket-key",
        "openai-organization",
    ],
)
def test_ordinary_names(name: str) -> None:
    assert not is_credential_header(name)


def test_every_header_codex_engine_does_not_set_itself_is_secret_when_sent() -> None:
    sent = {
        "Authorization": "Bearer sk-bearer-value-123",
        "x-tenant-route": "tenant-route-value",
        "OpenAI-Organization": "org-from-env-http-headers",
        "x-api-key": "short",
        "originator": "codex_engine",
        "session-id": "0199-thread-id",
    }
    assert request_secrets(sent) == {
        "Bearer sk-bearer-value-123",
        "sk-bearer-value-123",
        "tenant-route-value",
        "org-from-env-http-headers",
    }
    shown = redact_headers(sent, outgoing=True)
    assert shown["originator"] == "codex_engine" and shown["session-id"] == "0199-thread-id"
    assert {shown[k] for k in ("Authorization", "x-tenant-route", "x-api-key")} == {REDACTED}
    # Received headers are judged by name only.
    received = redact_headers({"set-cookie": "a=b", "x-request-id": "req_1"})
    assert received == {"set-cookie": REDACTED, "x-request-id": "req_1"}


def test_text_loses_a_secret_in_every_usual_form() -> None:
    secret = "canary value/with\nnewline"
    text = (
        f"raw {secret} | url canary%20value%2Fwith%0Anewline | repr b'canary value/with\\nnewline'"
        " | line canary value/with"
    )
    cleaned = redact_text(text, [secret])
    assert "canary" not in cleaned and cleaned.count(REDACTED) == 4
    assert redact_text("x=1 and eu", ["1", "eu"]) == "x=1 and eu"  # too short to be a credential


alphabet = st.characters(codec="ascii", exclude_characters="[]")


@given(
    secret=st.text(alphabet=alphabet, min_size=8, max_size=30),
    before=st.text(alphabet=alphabet, max_size=20),
    after=st.text(alphabet=alphabet, max_size=20),
)
def test_a_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    assert secret not in redact_text(before + secret + after, [secret])


def test_urls_lose_passwords_and_credential_query_values() -> None:
    url = "https://user:pw@host/v1/responses?api-version=1&api_key=abc&sig=1&access_token=t"
    assert redact_url(url) == (
        f"https://{REDACTED}@host/v1/responses?api-version=1&api_key={REDACTED}&sig=1"
        f"&access_token={REDACTED}"
    )


def test_log_args_of_header_lines_frames_and_numbers() -> None:
    secrets = {"tenant-route-value"}
    assert redact_log_args("> %s: %s", ("x-tenant-route", "tenant-route-value"), secrets) == (
        "> %s: %s",
        ("x-tenant-route", REDACTED),
    )
    assert redact_log_args("< %s: %s", ("Set-Cookie", "sid=1"))[1] == ("Set-Cookie", REDACTED)
    _msg, args = redact_log_args(
        "> TEXT %r [%d bytes]", ("{'x': 'tenant-route-value'}", 42), secrets
    )
    assert args == ("{'x': '[redacted]'}", 42)


def record(msg: str, *args: Any, name: str = "httpcore.http11") -> logging.LogRecord:
    return logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args or None, None)


def test_library_filter_hides_rendered_response_headers_and_refused_values() -> None:
    rendered = record(
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
        "[(b'Content-Type', b'text/event-stream'), (b'Set-Cookie', b'sid=canary-cookie')])"
    )
    refused = record(
        "send_request_headers.failed exception=LocalProtocolError(LocalProtocolError("
        "\"Illegal header value b'canary-refused\\\\nX: 1'\"))"
    )
    for rec in (rendered, refused):
        assert LIBRARY_LOG_FILTER.filter(rec)
        assert "canary" not in rec.getMessage()
    assert "(b'Content-Type', b'text/event-stream')" in rendered.getMessage()


def test_the_canary_scan_reports_where_a_secret_leaked() -> None:
    registry = CanaryRegistry()
    registry.add("sk-canary-for-the-scan", "short")
    registry.outputs.append(("cli stderr", "... sk-canary-for-the-scan ..."))
    leaked = registry.leaks([record("Authorization: %s", "sk-canary-for-the-scan")])
    assert leaked == ["sk-can… in cli stderr", "sk-can… in log record httpcore.http11:DEBUG"]
    assert registry.values == {"sk-canary-for-the-scan"}


# -- in process, against the emulator (the autouse canary scan checks the DEBUG records) -------


async def collect(client: Any) -> list[ClientEvent]:
    prompt = Prompt(input=[user_message("hi")], base_instructions="Be brief.")
    return [event async for event in client.new_session().stream(prompt, CTX)]


async def test_http_debug_logs_hide_a_cookie_the_server_sets(
    emulator: ResponsesEmulator,
    caplog: pytest.LogCaptureFixture,
    secret_canaries: CanaryRegistry,
) -> None:
    cookie = "sid=canary-session-cookie-81f2"
    secret_canaries.add(cookie)
    emulator.enqueue(Reply.text("hello", headers={"set-cookie": cookie}))
    async with make_client(emulator.base_url) as client:
        await collect(client)
    assert "(b'set-cookie', b'[redacted]')" in caplog.text


@pytest.mark.parametrize("websockets", [False, True])
async def test_custom_headers_stay_out_of_debug_logs(
    websockets: bool,
    emulator: ResponsesEmulator,
    caplog: pytest.LogCaptureFixture,
    secret_canaries: CanaryRegistry,
) -> None:
    headers = {"x-api-key": "canary-x-api-key-in-proc", "x-tenant": "canary-tenant-in-proc"}
    secret_canaries.add(*headers.values())
    async with make_client(
        emulator.base_url,
        http_headers=headers,
        supports_websockets=websockets,
        enable_websockets=websockets,
    ) as client:
        await collect(client)
    (request,) = emulator.requests_of("ws_handshake" if websockets else "http")
    assert request.headers["x-tenant"] == "canary-tenant-in-proc"
    if websockets:
        assert "> x-tenant: [redacted]" in caplog.text
        assert "> x-api-key: [redacted]" in caplog.text


@pytest.mark.parametrize("websockets", [False, True])
async def test_a_refused_header_value_is_not_quoted_in_the_error(
    websockets: bool,
    emulator: ResponsesEmulator,
    sleeps: SleepRecorder,
    secret_canaries: CanaryRegistry,
) -> None:
    value = "canary-refused-in-proc\nX-Injected: 1"
    secret_canaries.add("canary-refused-in-proc")
    async with make_client(
        emulator.base_url,
        sleep=sleeps,
        http_headers={"x-api-key": value},
        supports_websockets=websockets,
        enable_websockets=websockets,
        request_max_retries=0,
    ) as client:
        with pytest.raises(CodexError) as raised:
            await collect(client)
    assert "canary" not in str(raised.value) and "canary" not in repr(raised.value)
    assert REDACTED in str(raised.value) or "header" in str(raised.value)


async def test_a_non_ascii_header_value_is_one_config_error_line(
    emulator: ResponsesEmulator, secret_canaries: CanaryRegistry
) -> None:
    value = "caf\u00e9-canary-non-ascii"
    secret_canaries.add(value)
    async with make_client(emulator.base_url, http_headers={"x-api-key": value}) as client:
        with pytest.raises(ConfigError) as raised:
            await collect(client)
    message = str(raised.value)
    assert "non-ASCII" in message and "http_headers" in message and "\n" not in message
    assert "canary" not in message
    assert emulator.requests_of("http") == []
