"""The bundled catalog carries every model codex 0.163 lists, with the same metadata, and
``model/list`` over real pipes shows them exactly as 0.163's app-server does
(tests/reference/model_list_0.163.json, recorded from 0.163 over stdio)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from codex_engine.config.catalog import (
    DEFAULT_MODEL,
    default_base_instructions,
    find_model_info,
    list_models,
)
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import run_cli
from tests.test_app_server import RawClient

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "model_list_0.163.json").read_text("utf-8")
)["result"]["data"]
REFERENCE_VISIBLE = [m["id"] for m in REFERENCE if not m["hidden"]]


def test_catalog_carries_every_reference_model_with_its_tool_surface() -> None:
    for entry in REFERENCE:
        info, warning = find_model_info(entry["id"])
        assert warning is None and not info.used_fallback_model_metadata
        assert info.display_name == entry["displayName"]
        assert info.description == entry["description"]
        assert info.visibility == ("hide" if entry["hidden"] else "list")
        assert [level.effort for level in info.supported_reasoning_levels] == [
            e["reasoningEffort"] for e in entry["supportedReasoningEfforts"]
        ]
        # 0.163's catalog: every model gets shell_command, freeform apply_patch, token truncation.
        assert info.shell_type == "shell_command"
        assert info.apply_patch_tool_type == "freeform"
        assert info.truncation_policy.mode == "tokens" and info.truncation_policy.limit == 10_000
        assert info.supports_parallel_tool_calls
        assert info.input_modalities == entry["inputModalities"]
        # Our own prompt, never the reference's text.
        assert info.base_instructions == default_base_instructions()
    astra, _ = find_model_info("gpt-6-astra")
    assert astra.experimental_supported_tools == ["send_user_message_async", "clock"]
    red, _ = find_model_info("gpt-daybreak-red-latest")
    assert red.context_window == 372_000
    # The reference sorts by priority; our earlier entries are hidden, so the lists are equal.
    visible = [m.slug for m in list_models(visible_only=True)]
    assert visible == REFERENCE_VISIBLE
    # Its default (API-key auth) is ours.
    assert [m["id"] for m in REFERENCE if m["isDefault"]] == [DEFAULT_MODEL]


def test_our_earlier_models_still_resolve() -> None:
    for slug in ("gpt-5.1-codex", "gpt-5.1-codex-mini", "gpt-5.2-codex", "gpt-5"):
        info, warning = find_model_info(slug)
        assert warning is None and info.slug == slug
        # Usable with -m, listed only with includeHidden.
        assert info.visibility == "hide"


async def test_model_list_over_pipes_matches_the_reference(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # No model configured: the default is marked, as 0.163 marks its own.
    client = await RawClient.start(codex_home, tmp_path, emulator, model=None)
    try:
        await client.initialize()
        listed: dict[str, Any] = await client.result("model/list", {"includeHidden": True})
        visible: dict[str, Any] = await client.result("model/list", {})
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
    # 0.163's entries first, in its order; our earlier (hidden) entries after them.
    assert listed["data"][: len(REFERENCE)] == REFERENCE
    assert all(m["hidden"] for m in listed["data"][len(REFERENCE) :])
    assert visible["data"] == [m for m in REFERENCE if not m["hidden"]]
    assert client.schema_errors() == []


async def test_exec_without_a_model_uses_the_reference_default_and_exec_command(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # Only the provider is configured (no TEST_MODEL): the default model is 0.163's.
    emulator.enqueue(Reply.text("ok"))
    flags = ["-c", "model_provider=emulator"]
    flags += ["-c", f"model_providers.emulator.base_url={emulator.base_url}"]
    result = await run_cli(
        "exec", "--skip-git-repo-check", *flags, "hi", home=codex_home, cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    (body,) = [
        r.body
        for r in emulator.requests
        if r.kind in ("http", "ws_message") and isinstance(r.body, dict) and "input" in r.body
    ]
    assert body["model"] == DEFAULT_MODEL == "gpt-6.1-sol"
    names = [t.get("name") for t in body["tools"]]
    assert "exec_command" in names and "shell" not in names
