"""Provider model, built-ins, effective values and URLs."""

from __future__ import annotations

import msgspec
import pytest

from codex_engine.config.providers import (
    CHATGPT_BASE_URL,
    DEFAULT_OPENAI_BASE_URL,
    EMULATOR_BASE_URL,
    ModelProviderInfo,
    built_in_providers,
)
from codex_engine.errors import AuthError


def test_built_ins() -> None:
    providers = built_in_providers()
    assert set(providers) == {"openai", "emulator"}
    openai = providers["openai"]
    assert openai.name == "OpenAI"
    assert openai.is_openai()
    assert openai.base_url is None
    assert openai.requires_openai_auth and openai.supports_websockets
    assert openai.env_http_headers == {
        "OpenAI-Organization": "OPENAI_ORGANIZATION",
        "OpenAI-Project": "OPENAI_PROJECT",
    }
    emulator = providers["emulator"]
    assert emulator.base_url == EMULATOR_BASE_URL == "http://127.0.0.1:8765/v1"
    assert not emulator.requires_openai_auth and emulator.supports_websockets
    assert not emulator.is_openai()


def test_effective_defaults_and_caps() -> None:
    p = ModelProviderInfo(name="p")
    assert p.request_max_retries_effective() == 4
    assert p.stream_max_retries_effective() == 5
    assert p.stream_idle_timeout_ms_effective() == 300_000
    assert p.stream_idle_timeout_seconds() == 300.0
    assert p.websocket_connect_timeout_ms_effective() == 15_000
    big = ModelProviderInfo(name="p", request_max_retries=1000, stream_max_retries=500)
    assert big.request_max_retries_effective() == 100
    assert big.stream_max_retries_effective() == 100
    zero = ModelProviderInfo(name="p", request_max_retries=0)
    assert zero.request_max_retries_effective() == 0


def test_base_url_selection() -> None:
    openai = built_in_providers()["openai"]
    assert openai.api_base_url(is_chatgpt=False) == DEFAULT_OPENAI_BASE_URL
    assert openai.api_base_url(is_chatgpt=True) == CHATGPT_BASE_URL
    assert (
        openai.responses_url(is_chatgpt=True) == "https://chatgpt.com/backend-api/codex/responses"
    )
    assert openai.websocket_responses_url() == "wss://api.openai.com/v1/responses"
    custom = ModelProviderInfo(name="c", base_url="http://h:1/v1/")
    assert custom.api_base_url(is_chatgpt=True) == "http://h:1/v1/"
    assert custom.responses_url() == "http://h:1/v1/responses"
    assert custom.websocket_responses_url() == "ws://h:1/v1/responses"


def test_query_params_appended() -> None:
    azure = ModelProviderInfo(
        name="Azure",
        base_url="https://x.openai.azure.com/openai",
        query_params={"api-version": "2025-04-01-preview"},
    )
    assert azure.responses_url() == (
        "https://x.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    )
    assert azure.is_azure_responses_endpoint()
    assert not built_in_providers()["openai"].is_azure_responses_endpoint()


def test_chat_wire_api_rejected_with_clear_message() -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.convert({"name": "x", "wire_api": "chat"}, ModelProviderInfo)
    assert 'only "responses"' in str(info.value)


def test_extra_keys_forbidden_and_frozen() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": "x", "base_ulr": "http://h"}, ModelProviderInfo)
    p = ModelProviderInfo(name="x")
    with pytest.raises(AttributeError):
        p.name = "y"  # type: ignore[misc]


def test_headers_and_env_key() -> None:
    p = ModelProviderInfo(
        name="x",
        env_key="MY_KEY",
        env_key_instructions="Get one at example.test.",
        http_headers={"X-Static": "1"},
        env_http_headers={"X-Org": "ORG", "X-Empty": "EMPTY"},
    )
    assert p.headers({"ORG": "acme", "EMPTY": ""}) == {"X-Static": "1", "X-Org": "acme"}
    assert p.api_key_from_env({"MY_KEY": " sk-1 "}) == "sk-1"
    with pytest.raises(AuthError, match=r"MY_KEY.*example\.test"):
        p.api_key_from_env({})
    assert ModelProviderInfo(name="n").api_key_from_env({}) is None
