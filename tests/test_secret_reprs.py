"""No repr shows a secret: the records that hold tokens, keys or credential headers print their
other fields only, through ``repr`` and through rich's pretty printer (which asks
``__rich_repr__`` first)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.pretty import pretty_repr

from codex_engine.auth import ApiKeyAuth, AuthDocument, AuthMode, ChatGptAuth, ExternalChatGptAuth
from codex_engine.auth.device_code import DeviceCode
from codex_engine.auth.refresh import RefreshedTokens
from codex_engine.auth.tokens import TokenData
from codex_engine.client.credentials import Credentials
from codex_engine.config.mcp_servers import HttpTransport, StdioTransport
from codex_engine.config.shell_environment import ShellEnvironmentPolicy
from codex_engine.protocol.headers import ClientIdentity, HeaderInputs
from codex_engine.telemetry.settings import OtlpGrpcExporter, OtlpHttpExporter

TOKENS = TokenData("id-SECRET", "access-SECRET", "refresh-SECRET", "acct-1")

#: (value, what its repr must still show)
CASES: list[tuple[Any, str]] = [
    (TOKENS, "account_id='acct-1'"),
    (ApiKeyAuth("sk-SECRET"), "ApiKeyAuth()"),
    (ChatGptAuth(TOKENS), "account_id='acct-1'"),
    (ExternalChatGptAuth("ext-SECRET", "acct-2"), "chatgpt_account_id='acct-2'"),
    (AuthDocument(AuthMode.API_KEY, api_key="sk-SECRET"), "auth_mode=<AuthMode.API_KEY"),
    (AuthDocument(AuthMode.CHATGPT, tokens=TOKENS), "account_id='acct-1'"),
    (RefreshedTokens("id-SECRET", "access-SECRET", "refresh-SECRET"), "RefreshedTokens()"),
    (DeviceCode("https://auth.example/device", "ABCD-1234", "dev-SECRET"), "user_code='ABCD-1234'"),
    (Credentials("bearer-SECRET", "acct-3", True), "bearer=<set>"),
    (
        HeaderInputs(
            ClientIdentity("codex_engine", "ua/1"),
            "thread-1",
            bearer="bearer-SECRET",
            provider_headers={"X-Api-Key": "header-SECRET"},
        ),
        "thread_id='thread-1'",
    ),
    (
        OtlpHttpExporter("https://otel.example/v1/metrics", {"Authorization": "Bearer SECRET"}),
        "endpoint=",
    ),
    (OtlpGrpcExporter("https://otel.example:4317", {"x-api-key": "SECRET"}), "endpoint="),
    (StdioTransport("server", env={"TOKEN": "SECRET"}), "command='server'"),
    (HttpTransport("https://mcp.example", http_headers={"Authorization": "SECRET"}), "url="),
    (ShellEnvironmentPolicy(set_vars={"TOKEN": "SECRET"}), "ShellEnvironmentPolicy("),
]


@pytest.mark.parametrize(("value", "shown"), CASES, ids=lambda v: type(v).__name__)
def test_reprs_leave_secrets_out_and_keep_the_rest(value: Any, shown: str) -> None:
    assert "SECRET" not in repr(value)
    assert "SECRET" not in pretty_repr(value)
    assert shown in repr(value)


def test_hidden_fields_still_count_for_equality() -> None:
    assert ApiKeyAuth("sk-a") == ApiKeyAuth("sk-a")
    assert ApiKeyAuth("sk-a") != ApiKeyAuth("sk-b")
    assert hash(TOKENS) == hash(TokenData("id-SECRET", "access-SECRET", "refresh-SECRET", "acct-1"))
