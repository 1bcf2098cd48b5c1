"""Bundled model catalog and lookups."""

from __future__ import annotations

import json

from codex_engine.config.catalog import (
    DEFAULT_MODEL,
    ModelInfo,
    bundled_models,
    default_base_instructions,
    find_model_info,
    list_models,
)

#: codex 0.163's catalog (tests/reference/model_list_0.163.json) plus our earlier entries.
PUBLIC_SLUGS = {
    "gpt-6.1-sol",
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-daybreak-blue-latest",
    "gpt-daybreak-red-latest",
    "gpt-5.5",
    "codex-auto-review",
    "gpt-5.1-codex",
    "gpt-5.1-codex-max",
    "gpt-5.1-codex-mini",
    "gpt-5.2-codex",
    "gpt-5.2",
    "gpt-5.1",
    "gpt-5-codex",
    "gpt-5",
}


def test_bundled_catalog_contents() -> None:
    models = bundled_models()
    assert {m.slug for m in models} == PUBLIC_SLUGS
    for m in models:
        # Synced from 0.163: one 372k-window model; 0.163's own models prefer WebSockets.
        assert m.context_window == (372_000 if m.slug == "gpt-daybreak-red-latest" else 272_000)
        assert m.prefer_websockets is (m.priority < 50)
        assert m.base_instructions == default_base_instructions()
        assert not m.used_fallback_model_metadata
        assert m.default_reasoning_level is None or m.supports_reasoning_effort(
            m.default_reasoning_level
        )
    assert DEFAULT_MODEL in PUBLIC_SLUGS


def test_base_instructions_are_our_own_prompt() -> None:
    text = default_base_instructions()
    assert text.startswith("You are codex-engine")
    assert 60 <= len(text.splitlines()) <= 120


def test_list_models_sorted_by_priority() -> None:
    models = list_models()
    priorities = [m.priority for m in models]
    assert priorities == sorted(priorities)
    visible = list_models(visible_only=True)
    assert all(m.visibility == "list" for m in visible)
    assert "gpt-5" not in {m.slug for m in visible}


def test_find_known_model() -> None:
    info, warning = find_model_info("gpt-5.1-codex-max")
    assert warning is None
    assert info.slug == "gpt-5.1-codex-max"
    assert info.effective_auto_compact_limit() == 244_800
    assert info.effective_context_window() == 258_400


def test_unknown_model_fallback() -> None:
    info, warning = find_model_info("my-local-model")
    assert warning is not None and "my-local-model" in warning and "fallback" in warning
    assert info.used_fallback_model_metadata
    assert info.display_name == "my-local-model"
    assert info.context_window == 272_000
    assert info.truncation_policy.mode == "bytes" and info.truncation_policy.limit == 10_000
    assert info.priority == 99
    assert info.visibility == "none"
    assert info.supports_parallel_tool_calls is False
    assert info.prefer_websockets is False
    assert info.supported_reasoning_levels == []
    assert info.base_instructions == default_base_instructions()
    assert "used_fallback_model_metadata" not in info.to_dict()


def test_overrides_applied() -> None:
    info, _ = find_model_info(
        "gpt-5.1-codex",
        context_window=100_000,
        auto_compact_token_limit=50_000,
        base_instructions="be brief",
    )
    assert info.context_window == 100_000
    assert info.effective_auto_compact_limit() == 50_000
    assert info.base_instructions == "be brief"
    only_window, _ = find_model_info("gpt-5.1-codex", context_window=100_000)
    assert only_window.effective_auto_compact_limit() == 90_000
    # The cached bundled entry is untouched.
    again, _ = find_model_info("gpt-5.1-codex")
    assert again.context_window == 272_000


def test_tool_output_limit_converted_to_truncation_mode() -> None:
    tokens, _ = find_model_info("gpt-5.1-codex", tool_output_token_limit=2000)
    assert tokens.truncation_policy.mode == "tokens" and tokens.truncation_policy.limit == 2000
    as_bytes, _ = find_model_info("unknown-x", tool_output_token_limit=2000)
    assert as_bytes.truncation_policy.mode == "bytes" and as_bytes.truncation_policy.limit == 8000


def test_server_fields_survive_round_trip() -> None:
    payload = {
        "slug": "future-model",
        "display_name": "Future",
        "base_instructions": "x",
        "minimal_client_version": "0.153.0",
        "supports_search_tool": True,
    }
    info = ModelInfo.from_dict(payload)
    dumped = json.loads(json.dumps(info.to_dict()))
    assert dumped["minimal_client_version"] == "0.153.0"
    assert dumped["supports_search_tool"] is True
    assert "used_fallback_model_metadata" not in dumped
    assert info.input_modalities == ["text", "image"]
    assert info.effective_context_window_percent == 95
