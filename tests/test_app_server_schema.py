"""``codex-engine app-server generate-json-schema``: the schema of what codex-engine implements,
generated from its protocol models, laid out as the reference lays out its own."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.app_server import handlers  # noqa: F401  (fills REGISTRY)
from codex_engine.app_server.registry import REGISTRY, Tagged
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.app_server.catalog import CLIENT_REQUESTS
from tests.conftest import run_cli
from tests.test_app_server import RawClient

#: Registered, but answering "not supported" until implemented: not declared in our schema.
UNDECLARED: set[str] = set()


def _properties(root: Path, relative: str) -> set[str]:
    return set(json.loads((root / relative).read_text())["properties"])


async def test_generate_json_schema_writes_what_the_sdk_reads(tmp_path: Path) -> None:
    from jsonschema import Draft7Validator

    stable, experimental = tmp_path / "stable", tmp_path / "experimental"
    for out, extra in ((stable, ()), (experimental, ("--experimental",))):
        run = await run_cli(
            "app-server",
            "generate-json-schema",
            *extra,
            "--out",
            str(out),
            home=tmp_path,
            cwd=tmp_path,
        )
        assert run.code == 0, run.stderr
    # The fields the official SDK checks before sending its gated options.
    assert {"toolOutput", "turnTrigger", "serviceTierForTurn"} <= _properties(
        experimental, "v2/TurnStartParams.json"
    )
    for name in ("ThreadResumeParams", "ThreadForkParams"):
        assert "excludeTurns" in _properties(experimental, f"v2/{name}.json")
    assert "runtimeSummary" in _properties(stable, "v2/TurnCompletedNotification.json")
    # Experimental-only fields appear only with --experimental.
    approval = "CommandExecutionRequestApprovalParams.json"
    assert "availableDecisions" in _properties(experimental, approval)
    assert "availableDecisions" not in _properties(stable, approval)
    assert (stable / "v1" / "InitializeResponse.json").exists()
    for path in stable.rglob("*.json"):
        Draft7Validator.check_schema(json.loads(path.read_text()))
    listed = json.loads((stable / "ClientRequest.json").read_text())["oneOf"]
    methods = {variant["properties"]["method"]["enum"][0] for variant in listed}
    assert methods == set(CLIENT_REQUESTS)
    # Every $ref of a listing names a file that was written.
    for variant in listed:
        ref = variant["properties"].get("params", {}).get("$ref")
        assert ref is None or (stable / ref).exists(), ref


async def test_generate_json_schema_names_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    run = await run_cli(
        "app-server",
        "generate-json-schema",
        "--out",
        str(blocker / "schema"),
        home=tmp_path,
        cwd=tmp_path,
    )
    assert run.code != 0
    (line,) = run.stderr.strip().splitlines()
    assert "cannot write the schema" in line and "--out" in line and "Traceback" not in run.stderr


def test_every_served_method_is_declared_with_the_params_model_it_validates() -> None:
    declared = set(CLIENT_REQUESTS)
    assert declared == REGISTRY.names - UNDECLARED
    for name in declared:
        spec = REGISTRY.spec(name)
        shape = CLIENT_REQUESTS[name]
        if isinstance(spec.params, Tagged):
            assert shape.params is not None
            assert set(spec.params.models.values()) == set(shape.params.model.__args__)
        elif shape.params is not None:
            assert shape.params.model is spec.params, name


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, tmp_path, emulator)
    await raw.initialize()
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


async def test_initialize_reports_an_unversioned_protocol_and_our_own_version(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    from codex_engine._version import __version__

    raw = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        result = await raw.initialize()
    finally:
        await raw.close()
    assert result["serverInfo"] == {"name": "codex_engine", "version": "0.0.0"}
    assert result["userAgent"].startswith(f"codex_engine/{__version__} ")
    assert raw.schema_errors() == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"input": [{"type": "text", "text": "hi"}], "toolOutput": {"name": "n", "output": "x"}},
            "`toolOutput` cannot be combined with nonempty `input`",
        ),
        (
            {"input": [], "toolOutput": {"name": " ", "output": "x"}},
            "`toolOutput.name` must not be empty",
        ),
    ],
)
async def test_a_tool_output_turn_is_refused_as_the_reference_refuses_it(
    client: RawClient, params: dict[str, Any], message: str
) -> None:
    thread = await client.result("thread/start", {})
    error = await client.error("turn/start", {"threadId": thread["thread"]["id"], **params})
    assert error["code"] == -32600
    assert error["message"].startswith(message)
