"""The official SDK as a test client of ``codex-engine app-server``, with every message it
exchanged validated against the reference schema and against our own generated schema."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.app_server.catalog import (
    CLIENT_REQUESTS,
    SERVER_NOTIFICATIONS,
    SERVER_REQUESTS,
)
from codex_engine.protocol.app_server.schema import build_schemas
from tests.conftest import TEST_MODEL, cli_env
from tests.test_app_server import schema_checker

Json = dict[str, Any]
T = TypeVar("T")
WIRETAP = Path(__file__).with_name("sdk_wiretap.py")


@cache
def _own_validators(experimental: bool) -> dict[str, Any]:
    from jsonschema import Draft7Validator

    files = build_schemas(experimental=experimental)
    return {
        path.rsplit("/", 1)[-1][: -len(".json")]: Draft7Validator(doc)
        for path, doc in files.items()
    }


def own_schema_errors(message: Json, method_of: Callable[[Any], str | None]) -> list[str]:
    """Problems of one server message against the schema ``generate-json-schema`` writes."""
    validators = _own_validators(True)
    if "method" in message and "id" in message:
        shape = SERVER_REQUESTS.get(message["method"])
        name = shape.params.name if shape is not None and shape.params is not None else None
        payload = message.get("params")
    elif "method" in message:
        notification = SERVER_NOTIFICATIONS.get(message["method"])
        name = notification.name if notification is not None else None
        payload = message.get("params")
    elif "error" in message:
        return []
    else:
        method = method_of(message.get("id"))
        request = CLIENT_REQUESTS.get(method or "")
        name = request.result.name if request is not None else None
        payload = message.get("result")
    if name is None:
        return [f"{message.get('method', message.get('id'))} is not declared in our schema"]
    return [f"{e.json_path}: {e.message[:300]}" for e in validators[name].iter_errors(payload)]


@dataclass
class WireLog:
    """What the SDK and the server said to each other, read from the wiretap's log."""

    path: Path
    entries: list[Json] = field(default_factory=list)

    def load(self) -> WireLog:
        if self.path.exists():
            self.entries = [json.loads(line) for line in self.path.read_text().splitlines()]
        return self

    def of(self, who: str) -> list[Json]:
        return [e["message"] for e in self.entries if e["from"] == who]

    def requests(self, method: str) -> list[Json]:
        return [m for m in self.of("client") if m.get("method") == method and "id" in m]

    def response_to(self, request: Json) -> Json:
        return next(
            m for m in self.of("server") if m.get("id") == request["id"] and "method" not in m
        )

    def schema_errors(self) -> list[str]:
        """Every server message against the reference schema and against ours."""
        sent = {m["id"]: m["method"] for m in self.of("client") if "id" in m and "method" in m}
        reference = schema_checker()
        problems: list[str] = []
        for message in self.of("server"):
            where = message.get("method", message.get("id"))
            if reference is not None:
                problems += [
                    f"{where} (reference): {p}" for p in reference.errors(message, sent.get)
                ]
            problems += [f"{where} (ours): {p}" for p in own_schema_errors(message, sent.get)]
        return problems


def wiretapped_binary(directory: Path) -> tuple[Path, WireLog]:
    """An executable the SDK can launch as its codex binary, and the log it will write."""
    log = WireLog(directory / "wire.jsonl")
    binary = directory / "codex-engine-wiretap"
    binary.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{WIRETAP}" "{log.path}" "$@"\n')
    binary.chmod(0o755)
    return binary, log


def sdk_config(
    emulator: ResponsesEmulator, codex_home: Path, cwd: Path, *overrides: str
) -> tuple[Any, WireLog]:
    """A ``CodexConfig`` that launches a wiretapped codex-engine against ``emulator``."""
    import openai_codex

    binary, log = wiretapped_binary(cwd.parent)
    config = openai_codex.CodexConfig(
        codex_bin=str(binary),
        config_overrides=(
            f"model={TEST_MODEL}",
            "model_provider=emulator",
            f"model_providers.emulator.base_url={emulator.base_url}",
            *overrides,
        ),
        env=cli_env(codex_home),
        cwd=str(cwd),
    )
    return config, log


@asynccontextmanager
async def sdk_client(
    emulator: ResponsesEmulator, codex_home: Path, cwd: Path, *overrides: str
) -> AsyncIterator[tuple[Any, WireLog]]:
    """An ``AsyncCodex`` on a wiretapped codex-engine; its messages must all validate."""
    import openai_codex

    config, log = sdk_config(emulator, codex_home, cwd, *overrides)
    async with openai_codex.AsyncCodex(config) as client:
        yield client, log
    assert log.load().schema_errors() == []


async def run_sync_sdk(
    emulator: ResponsesEmulator,
    codex_home: Path,
    cwd: Path,
    scenario: Callable[[Any], T],
    *overrides: str,
) -> T:
    """Run ``scenario(codex)`` with the synchronous ``Codex`` client in a worker thread (the
    emulator keeps serving on this loop); its messages must all validate."""
    import openai_codex

    config, log = sdk_config(emulator, codex_home, cwd, *overrides)

    def run() -> T:
        with openai_codex.Codex(config) as codex:
            return scenario(codex)

    result = await asyncio.to_thread(run)
    assert log.load().schema_errors() == []
    return result
