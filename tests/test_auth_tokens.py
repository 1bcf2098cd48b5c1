"""Auth as data: JWT claims, the auth.json document, masking, and redacted reprs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.auth import (
    ApiKeyAuth,
    AuthDocument,
    AuthMode,
    ChatGptAuth,
    ExternalChatGptAuth,
    TokenData,
    mask_api_key,
    parse_jwt_claims,
)
from codex_engine.auth.tokens import parse_timestamp
from codex_engine.emulator.oauth import mint_jwt


def test_claims_come_from_the_openai_auth_namespace() -> None:
    token = mint_jwt(
        {
            "email": "a@b.c",
            "exp": 2_000_000_000,
            "https://api.openai.com/auth": {
                "chatgpt_plan_type": "pro",
                "chatgpt_account_id": "ws-1",
                "chatgpt_user_id": "u-1",
            },
        }
    )
    claims = parse_jwt_claims(token)
    assert claims.email == "a@b.c"
    assert claims.plan_type == "pro"
    assert claims.account_id == "ws-1"
    assert claims.user_id == "u-1"
    assert claims.expires_at == datetime.fromtimestamp(2_000_000_000, UTC)


def test_payload_without_padding_decodes() -> None:
    # A payload whose base64 length is not a multiple of 4 exercises the padding repair.
    payload = base64.urlsafe_b64encode(json.dumps({"email": "xy@z.io"}).encode()).rstrip(b"=")
    assert len(payload) % 4 != 0
    assert parse_jwt_claims(f"h.{payload.decode()}.s").email == "xy@z.io"


@given(st.text(max_size=60))
def test_any_string_parses_to_claims_without_raising(text: str) -> None:
    parse_jwt_claims(text)


def test_profile_namespace_email_is_a_fallback() -> None:
    token = mint_jwt({"https://api.openai.com/profile": {"email": "p@q.r"}})
    assert parse_jwt_claims(token).email == "p@q.r"


def test_reference_shaped_auth_json_round_trips() -> None:
    raw = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": mint_jwt({"email": "x@y.z"}),
            "access_token": "at",
            "refresh_token": "rt",
            "account_id": "acct",
        },
        "last_refresh": "2025-01-02T03:04:05.123456789Z",
    }
    document = AuthDocument.from_json(raw)
    auth = document.to_auth()
    assert isinstance(auth, ChatGptAuth) and auth.account_id == "acct"
    assert auth.email == "x@y.z"
    again = AuthDocument.from_json(document.to_json())
    assert again == document


def test_legacy_file_without_auth_mode_prefers_tokens_then_key() -> None:
    assert isinstance(AuthDocument.from_json({"OPENAI_API_KEY": "sk-1"}).to_auth(), ApiKeyAuth)
    with_tokens = AuthDocument.from_json(
        {
            "OPENAI_API_KEY": "sk-1",
            "tokens": {"id_token": "a", "access_token": "b", "refresh_token": "c"},
        }
    )
    assert isinstance(with_tokens.to_auth(), ChatGptAuth)
    assert AuthDocument.from_json({}).to_auth() is None


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"auth_mode": "magic"},
        {"tokens": "x"},
        {"tokens": {"id_token": 1}},
        {"last_refresh": "?"},
    ],
)
def test_malformed_documents_are_value_errors(bad: object) -> None:
    with pytest.raises(ValueError):
        AuthDocument.from_json(bad)


def test_reprs_never_show_secrets() -> None:
    tokens = TokenData("id-SECRET", "access-SECRET", "refresh-SECRET", "acct")
    values = [
        ApiKeyAuth("sk-SECRET"),
        ChatGptAuth(tokens),
        ExternalChatGptAuth("ext-SECRET", "acct"),
        AuthDocument(AuthMode.API_KEY, api_key="sk-SECRET"),
    ]
    for value in values:
        assert "SECRET" not in repr(value)


def test_api_key_mask_keeps_only_the_ends() -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz"
    masked = mask_api_key(key)
    assert masked.startswith("sk-proj-") and masked.endswith("vwxyz")
    assert "klmnop" not in masked
    assert mask_api_key("short") == "***"


def test_timestamps_accept_nanoseconds_and_offsets() -> None:
    assert parse_timestamp("2025-01-02T03:04:05Z") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("2025-01-02T04:04:05+01:00") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("yesterday") is None
