"""The official SDK's turn options, account reads and mid-turn input against codex-engine, with
the async and the sync client, as they behave against codex 0.163."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.sdk_support import run_sync_sdk, sdk_client

openai_codex = pytest.importorskip("openai_codex")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
#: The Responses `text.format` codex 0.163 sends for a turn's output schema.
FORMAT = {"type": "json_schema", "strict": True, "schema": SCHEMA, "name": "codex_output_schema"}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _formats(emulator: ResponsesEmulator) -> list[Any]:
    return [r.body.get("text", {}).get("format") for r in emulator.requests_of("http")]


# -- output_schema ------------------------------------------------------------------------------


async def test_output_schema_constrains_that_turn_only_async(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start()
        first = await thread.run("answer in JSON", output_schema=SCHEMA)
        assert first.status.value == "completed"
        second = await thread.run("free text now")
        assert second.status.value == "completed"
    assert _formats(emulator) == [FORMAT, None]


async def test_output_schema_constrains_that_turn_only_sync(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    def scenario(codex: Any) -> list[str]:
        thread = codex.thread_start()
        first = thread.run("answer in JSON", output_schema=SCHEMA)
        second = thread.run("free text now")
        return [first.status.value, second.status.value]

    statuses = await run_sync_sdk(emulator, codex_home, workdir, scenario)
    assert statuses == ["completed", "completed"]
    assert _formats(emulator) == [FORMAT, None]


# -- account/read after an API-key sign-in ------------------------------------------------------

#: A provider that uses OpenAI sign-in (as the default `openai` provider does), on the emulator.
OPENAI_AUTH = (
    "model_provider=emu_openai",
    'model_providers.emu_openai={name="emu-openai", base_url="http://127.0.0.1:9/v1", '
    'requires_openai_auth=true, wire_api="responses"}',
)


async def test_api_key_account_reads_as_the_reference_async(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir, *OPENAI_AUTH) as (codex, wire):
        before = await codex.account()
        assert before.account is None and before.requires_openai_auth is True
        await codex.login_api_key("sk-sdk-secret-account-0001")
        after = await codex.account()
        assert after.account.root.type == "apiKey"
    reads = wire.load().requests("account/read")
    assert wire.response_to(reads[-1])["result"] == {
        "account": {"type": "apiKey"},
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }


async def test_api_key_account_reads_as_the_reference_sync(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    def scenario(codex: Any) -> tuple[Any, Any]:
        codex.login_api_key("sk-sdk-secret-account-0002")
        account = codex.account()
        return account.account.root.type, account.requires_openai_auth

    assert await run_sync_sdk(emulator, codex_home, workdir, scenario, *OPENAI_AUTH) == (
        "apiKey",
        True,
    )
