"""Request compression as the server sees it: when bodies are zstd, and the 400/415 way back."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from codex_engine.client.credentials import Credentials
from codex_engine.client.events import WarningEvent
from codex_engine.client.model_client import ModelClient
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.protocol.events import OutputTextDelta
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext


class FixedCredentials:
    def __init__(self, *, chatgpt: bool) -> None:
        self._creds = Credentials("token-abc", "acct-1" if chatgpt else None, is_chatgpt=chatgpt)

    async def credentials(self) -> Credentials:
        return self._creds

    async def recover_unauthorized(self) -> bool:
        return False


def client_for(
    emulator: ResponsesEmulator, *, chatgpt: bool, openai: bool, websockets: bool = False
) -> ModelClient:
    provider = ModelProviderInfo(
        name="OpenAI" if openai else "other",
        base_url=emulator.base_url,
        requires_openai_auth=openai,
        supports_websockets=websockets,
    )
    return ModelClient(
        provider=provider,
        credentials=FixedCredentials(chatgpt=chatgpt),
        thread_id="thread-z",
        enable_websockets=websockets,
        enable_preconnect=False,
        env={},
    )


PROMPT = Prompt(input=[user_message("compress me " * 200)], base_instructions="x" * 2000)
CTX = RequestContext(model="gpt-5.1-codex", thread_id="thread-z")


async def collect(client: ModelClient) -> list[Any]:
    async with client:
        return [event async for event in client.new_session().stream(PROMPT, CTX)]


@pytest.mark.parametrize(
    ("chatgpt", "openai", "websockets", "compressed"),
    [
        (True, True, False, True),
        (False, True, False, False),  # API key: never
        (True, False, False, False),  # another provider: never
        (True, True, True, False),  # WebSocket: never
    ],
)
async def test_compression_only_for_chatgpt_auth_to_the_openai_backend_over_http(
    emulator: ResponsesEmulator, chatgpt: bool, openai: bool, websockets: bool, compressed: bool
) -> None:
    events = await collect(
        client_for(emulator, chatgpt=chatgpt, openai=openai, websockets=websockets)
    )
    assert any(isinstance(e, OutputTextDelta) for e in events)
    if websockets:
        assert emulator.requests_of("ws_message") and not emulator.requests_of("http")
        return
    request = emulator.requests_of("http")[0]
    assert request.compressed is compressed
    assert (request.headers.get("content-encoding") == "zstd") is compressed
    if compressed:
        assert request.raw_size is not None and request.decoded_size is not None
        assert request.raw_size * 2 < request.decoded_size


async def test_compressed_body_decodes_to_the_same_json(emulator: ResponsesEmulator) -> None:
    await collect(client_for(emulator, chatgpt=True, openai=True))
    await collect(client_for(emulator, chatgpt=False, openai=True))
    zipped, plain = emulator.requests_of("http")
    assert zipped.compressed and not plain.compressed
    assert zipped.body == plain.body


async def test_the_compression_log_line_names_its_figures(
    emulator: ResponsesEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="codex_engine.client.model_client")
    await collect(client_for(emulator, chatgpt=True, openai=True))
    (request,) = emulator.requests_of("http")
    (record,) = [r for r in caplog.records if "compressed request body" in r.getMessage()]
    assert record.levelno == logging.INFO
    fields = record.__dict__
    # The seed's names, as structured fields of the record and in its text.
    assert fields["pre_compression_bytes"] == request.decoded_size
    assert fields["post_compression_bytes"] == request.raw_size
    duration = fields["compression_duration_ms"]
    assert isinstance(duration, float) and 0 <= duration < 1000
    message = record.getMessage()
    assert f"pre_compression_bytes={request.decoded_size}" in message
    assert f"post_compression_bytes={request.raw_size}" in message
    assert f"compression_duration_ms={duration:.3f}" in message


@pytest.mark.parametrize("status", [400, 415])
async def test_a_refused_compressed_body_is_resent_plain_and_compression_stays_off(
    emulator: ResponsesEmulator, status: int
) -> None:
    emulator.enqueue(Reply.status(status, body={"error": {"message": "zstd not supported"}}))
    client = client_for(emulator, chatgpt=True, openai=True)
    async with client:
        first = [e async for e in client.new_session().stream(PROMPT, CTX)]
        second = [e async for e in client.new_session().stream(PROMPT, CTX)]
    sent = emulator.requests_of("http")
    assert [r.compressed for r in sent] == [True, False, False]
    warnings = [e for e in first + second if isinstance(e, WarningEvent)]
    assert len(warnings) == 1
    assert any(isinstance(e, OutputTextDelta) for e in first)


async def test_exec_verbose_logs_the_compression_figures(
    emulator: ResponsesEmulator, tmp_path: Any
) -> None:
    from tests.auth_support import run_cli, sign_in
    from tests.conftest import TEST_MODEL

    home = tmp_path / "home"
    sign_in(home, emulator)
    run = await run_cli(
        "-v", "exec", "--skip-git-repo-check", "-c", f"model={TEST_MODEL}",
        "-c", f"model_providers.openai.base_url={emulator.base_url}",
        "say hi", home=home, cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert emulator.requests_of("http")[0].compressed
    logged = [line for line in run.stderr.splitlines() if "compressed request body" in line]
    assert len(logged) == 1 and " -> " in logged[0] and "bytes" in logged[0]
    (request,) = emulator.requests_of("http")
    assert f"pre_compression_bytes={request.decoded_size}" in logged[0]
    assert f"post_compression_bytes={request.raw_size}" in logged[0]
    assert "compression_duration_ms=" in logged[0]
