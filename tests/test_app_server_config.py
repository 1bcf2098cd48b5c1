"""Configuration methods through real pipes: ``config/read`` (layers, origins, versions), writes
that keep the user's TOML formatting and comments and refuse what the reference refuses, and
features, permission profiles, requirements and provider capabilities. Every message the server
writes is checked against the reference schema."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import RawClient

USER_CONFIG = """\
# my settings
model = "gpt-5.1-codex"   # the model I like

[features]
# keep this
web_search_request = true

[model_providers.mine]
name = "Mine"
base_url = "http://localhost:1/v1"
"""

Start = Callable[..., Awaitable[RawClient]]


@pytest.fixture
async def start(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[Start]:
    clients: list[RawClient] = []

    async def launch(*flags: str) -> RawClient:
        # No model flag: these tests read the config layers as the user wrote them.
        client = await RawClient.start(codex_home, tmp_path, emulator, *flags, model=None)
        clients.append(client)
        await client.initialize()
        return client

    yield launch
    for client in clients:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
        assert client.schema_errors() == []


def _names(directory: Path) -> list[str]:
    """What is in ``directory`` (no temporary files may be left behind)."""
    return sorted(p.name for p in directory.iterdir())


def _version(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


async def test_config_read_shows_layers_origins_and_versions(
    start: Start, codex_home: Path
) -> None:
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    client = await start("-c", "model_reasoning_effort=high")
    read = await client.result("config/read", {"includeLayers": True})
    effective = read["config"]
    assert effective["model"] == "gpt-5.1-codex"
    assert effective["model_reasoning_effort"] == "high"
    assert effective["model_provider"] == "emulator"
    assert effective["features"]["web_search_request"] is True
    user = {"type": "user", "file": str(config), "profile": None}
    assert read["origins"]["model"] == {"name": user, "version": _version(config)}
    assert read["origins"]["model_providers.mine.base_url"]["name"] == user
    assert read["origins"]["model_reasoning_effort"]["name"] == {"type": "sessionFlags"}
    names = [layer["name"]["type"] for layer in read["layers"]]
    assert names == ["sessionFlags", "user"]
    assert read["layers"][1]["config"]["model_providers"]["mine"]["name"] == "Mine"
    without = await client.result("config/read", {})
    assert without["layers"] is None


async def test_writes_keep_comments_and_layout_and_merge_tables(
    start: Start, codex_home: Path
) -> None:
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    client = await start()
    first = await client.result(
        "config/value/write",
        {"keyPath": "model", "value": "gpt-5.2", "mergeStrategy": "replace"},
    )
    assert first == {
        "status": "ok",
        "version": _version(config),
        "filePath": str(config),
        "overriddenMetadata": None,
    }
    batch = await client.result(
        "config/batchWrite",
        {
            "expectedVersion": first["version"],
            "edits": [
                {
                    "keyPath": "model_providers.mine",
                    "value": {"wire_api": "responses"},
                    "mergeStrategy": "upsert",
                },
                {
                    "keyPath": "features.web_search_request",
                    "value": None,
                    "mergeStrategy": "replace",
                },
                {"keyPath": "sandbox_mode", "value": "workspace-write", "mergeStrategy": "replace"},
                {
                    "keyPath": "shell_environment_policy.set",
                    "value": {"A": "1"},
                    "mergeStrategy": "replace",
                },
            ],
        },
    )
    assert batch["version"] == _version(config)
    assert config.read_text() == (
        "# my settings\n"
        'model = "gpt-5.2"   # the model I like\n'
        'sandbox_mode = "workspace-write"\n'
        "\n"
        "[features]\n"
        "# keep this\n"
        "\n"
        "[model_providers.mine]\n"
        'name = "Mine"\n'
        'base_url = "http://localhost:1/v1"\n'
        'wire_api = "responses"\n'
        "\n"
        "[shell_environment_policy.set]\n"
        'A = "1"\n'
    )
    read = await client.result("config/read", {})
    assert read["config"]["sandbox_mode"] == "workspace-write"
    assert _names(codex_home) == ["config.toml"]


async def test_writes_are_refused_as_the_reference_refuses_them(
    start: Start, codex_home: Path, tmp_path: Path
) -> None:
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    before = config.read_bytes()
    client = await start()

    async def refused(params: dict[str, Any], method: str = "config/value/write") -> str:
        error = await client.error(method, params)
        assert error["code"] == -32600
        assert config.read_bytes() == before, "a refused write changed the file"
        code: str = error["data"]["config_write_error_code"]
        return code

    edit = {"keyPath": "model", "value": "x", "mergeStrategy": "replace"}
    assert await refused({**edit, "expectedVersion": "sha256:0"}) == "configVersionConflict"
    assert await refused({**edit, "value": 5}) == "configValidationError"
    assert await refused({**edit, "keyPath": ""}) == "configValidationError"
    assert await refused({**edit, "keyPath": "model.inner"}) == "configValidationError"
    assert await refused({**edit, "filePath": str(tmp_path / "other.toml")}) == (
        "configLayerReadonly"
    )
    # One bad edit of a batch and none is made.
    bad_batch = {"edits": [edit, {**edit, "keyPath": "sandbox_mode", "value": "wide-open"}]}
    assert await refused(bad_batch, "config/batchWrite") == "configValidationError"
    assert _names(codex_home) == ["config.toml"]
    # Naming the user config explicitly is fine.
    ok = await client.result("config/value/write", {**edit, "filePath": str(config)})
    assert ok["status"] == "ok"


async def test_a_write_a_flag_overrides_says_so(start: Start, codex_home: Path) -> None:
    client = await start("-c", "model=gpt-5.1-codex-mini")
    result = await client.result(
        "config/value/write", {"keyPath": "model", "value": "gpt-5.2", "mergeStrategy": "replace"}
    )
    assert result["status"] == "okOverridden"
    meta = result["overriddenMetadata"]
    assert meta["effectiveValue"] == "gpt-5.1-codex-mini"
    assert meta["overridingLayer"]["name"] == {"type": "sessionFlags"}
    assert (codex_home / "config.toml").read_text() == 'model = "gpt-5.2"\n'


async def test_features_profiles_requirements_and_capabilities(start: Start) -> None:
    client = await start()
    listed = await client.result("experimentalFeature/list", {})
    features = {f["name"]: f for f in listed["data"]}
    websockets = features["responses_websockets"]
    assert websockets["stage"] == "underDevelopment" and websockets["enabled"] is False
    unknown = await client.error(
        "experimentalFeature/enablement/set", {"enablement": {"nope": True}}
    )
    assert unknown["code"] == -32600 and "nope" in unknown["message"]
    changed = await client.result(
        "experimentalFeature/enablement/set", {"enablement": {"responses_websockets": True}}
    )
    assert changed == {"enablement": {"responses_websockets": True}}
    again = await client.result("experimentalFeature/list", {"limit": 100})
    assert {f["name"]: f["enabled"] for f in again["data"]}["responses_websockets"] is True

    first = await client.result("permissionProfile/list", {"limit": 2})
    rest = await client.result("permissionProfile/list", {"cursor": first["nextCursor"]})
    ids = [p["id"] for p in first["data"] + rest["data"]]
    assert ids == [":read-only", ":workspace", ":danger-full-access"]
    assert rest["nextCursor"] is None and all(p["allowed"] for p in first["data"])

    assert await client.result("configRequirements/read") == {"requirements": None}
    capabilities = await client.result("modelProvider/capabilities/read")
    assert capabilities == {"imageGeneration": False, "webSearch": True}
