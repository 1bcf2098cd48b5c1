"""Request-body compression: when it applies, that it round-trips, and the refusal fallback."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import zstandard

from codex_engine.errors import ConfigError
from codex_engine.protocol.compression import (
    CompressionState,
    compress_body,
    should_compress,
)
from codex_engine.protocol.headers import with_zstd_encoding


def _responses_body(turns: int) -> bytes:
    items: list[dict[str, Any]] = []
    for i in range(turns):
        items.append(
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"step {i}: run the tests again"}],
            }
        )
        items.append(
            {
                "type": "function_call",
                "name": "shell",
                "call_id": f"call_{i}",
                "arguments": json.dumps({"command": ["pytest", "-q", f"tests/test_{i}.py"]}),
            }
        )
        items.append(
            {
                "type": "function_call_output",
                "call_id": f"call_{i}",
                "output": f"{i} passed in 0.{i}s\n" * 5,
            }
        )
    body = {"model": "gpt-5.1-codex", "instructions": "You are a coding agent.", "input": items}
    return json.dumps(body, separators=(",", ":")).encode()


def test_compressed_body_decompresses_to_the_identical_json() -> None:
    body = _responses_body(60)
    compressed = compress_body(body)
    assert compressed.original_size == len(body)
    assert compressed.compressed_size == len(compressed.data) < len(body)
    assert compressed.ratio > 2
    assert compressed.seconds >= 0
    restored = zstandard.ZstdDecompressor().decompress(compressed.data)
    assert restored == body
    assert json.loads(restored) == json.loads(body)


def test_compression_is_safe_from_several_threads_at_once() -> None:
    bodies = [_responses_body(n) for n in range(5, 45)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(compress_body, bodies))
    decompressor = zstandard.ZstdDecompressor()
    assert [decompressor.decompress(r.data) for r in results] == bodies


def test_empty_body_round_trips() -> None:
    compressed = compress_body(b"")
    assert zstandard.ZstdDecompressor().decompress(compressed.data) == b""


@pytest.mark.parametrize(
    ("feature", "chatgpt", "openai", "transport"),
    list(itertools.product([True, False], [True, False], [True, False], ["http", "websocket"])),
)
def test_only_http_bodies_with_chatgpt_auth_to_openai_are_compressed(
    feature: bool, chatgpt: bool, openai: bool, transport: str
) -> None:
    result = should_compress(
        feature_enabled=feature,
        is_chatgpt_auth=chatgpt,
        provider_is_openai=openai,
        transport="http" if transport == "http" else "websocket",
    )
    assert result is (feature and chatgpt and openai and transport == "http")


def test_compressed_headers_announce_zstd_and_json() -> None:
    headers = with_zstd_encoding({"Authorization": "Bearer x"})
    assert headers["Content-Encoding"] == "zstd"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer x"
    kept = with_zstd_encoding({"content-type": "application/json; charset=utf-8"})
    assert "Content-Type" not in kept


def test_an_existing_content_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        with_zstd_encoding({"content-encoding": "gzip"})
    assert "\n" not in str(info.value)
    assert "enable_request_compression" in str(info.value)


@pytest.mark.parametrize("status", [400, 415])
def test_refused_compressed_body_is_resent_uncompressed_and_compression_stays_off(
    status: int,
) -> None:
    state = CompressionState(enabled=True)
    assert state.enabled
    assert state.on_rejected(status) is True
    assert not state.enabled
    warning = state.take_warning()
    assert warning is not None and str(status) in warning
    assert state.take_warning() is None
    # The resent (uncompressed) request is refused too: that is about its content, no resend.
    assert state.on_rejected(status, was_compressed=False) is False
    assert state.take_warning() is None


def test_second_in_flight_compressed_request_is_resent_without_a_second_warning() -> None:
    state = CompressionState(enabled=True)
    assert state.on_rejected(415)
    assert state.take_warning() is not None
    assert state.on_rejected(400, was_compressed=True)
    assert state.take_warning() is None


@pytest.mark.parametrize("status", [401, 404, 413, 429, 500, 503])
def test_other_statuses_leave_compression_on(status: int) -> None:
    state = CompressionState(enabled=True)
    assert state.on_rejected(status) is False
    assert state.enabled
    assert state.take_warning() is None


def test_a_session_without_compression_never_resends() -> None:
    state = CompressionState(enabled=False)
    assert not state.enabled
    assert state.on_rejected(400, was_compressed=False) is False
    assert state.take_warning() is None
