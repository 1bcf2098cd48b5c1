"""Errors as the reference answers them: -32600 for any request that cannot be served as sent
(the SDK's InvalidRequestError), the reference's ``codexErrorInfo`` for a failed turn, and a
``cwd`` that does not exist accepted as named."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.sdk_support import sdk_client
from tests.test_app_server import RawClient

openai_codex = pytest.importorskip("openai_codex")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


async def test_the_sdk_gets_invalid_request_errors_for_unknown_methods_and_bad_params(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    from openai_codex.errors import InvalidRequestError
    from pydantic import BaseModel

    class Anything(BaseModel):
        pass

    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        raw = codex._client
        calls: list[tuple[str, dict[str, Any], str]] = [
            ("no/such/method", {}, "unknown method 'no/such/method'"),
            ("thread/start", {"cwd": 5}, "invalid params for thread/start: `cwd`"),
            ("thread/read", {}, "invalid params for thread/read: `threadId` is required"),
            ("turn/start", {"threadId": "nope", "input": []}, "nope"),
        ]
        for method, params, message in calls:
            with pytest.raises(InvalidRequestError) as caught:
                await raw.request(method, params, response_model=Anything)
            assert caught.value.code == -32600
            assert message in caught.value.message


async def test_a_thread_may_name_a_directory_that_does_not_exist(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    missing = workdir / "not" / "there"
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start(cwd=str(missing))
        assert (await thread.read()).thread.cwd.root == str(missing)
        result = await thread.run("run `pwd`")
    assert result.status.value == "completed"
    assert not missing.exists()
    first, follow_up = emulator.requests_of("http")
    assert f"<cwd>{missing}</cwd>" in json.dumps(first.body["input"])
    (output,) = [i for i in follow_up.body["input"] if i.get("type") == "function_call_output"]
    assert f"the working directory {missing} does not exist" in output["output"]


@pytest.fixture
async def no_retries(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[RawClient]:
    client = await RawClient.start(
        codex_home,
        workdir,
        emulator,
        "-c",
        "model_providers.emulator.request_max_retries=0",
        "-c",
        "model_providers.emulator.stream_max_retries=0",
    )
    await client.initialize()
    try:
        yield client
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
    assert client.schema_errors() == []


QUOTA = {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}
CYBER = {"error": {"message": "flagged", "type": "invalid_request_error", "code": "cyber_policy"}}


@pytest.mark.parametrize(
    ("reply", "info"),
    [
        (Reply.status(400), "other"),
        (Reply.status(400, body=CYBER), "cyberPolicy"),
        (Reply.status(401), {"httpConnectionFailed": {"httpStatusCode": 401}}),
        (Reply.status(403), {"httpConnectionFailed": {"httpStatusCode": 403}}),
        (Reply.status(429, body=QUOTA), "usageLimitExceeded"),
        (Reply.status(500), "internalServerError"),
        (Reply.failed({"code": "invalid_prompt", "message": "no"}), "other"),
        (
            Reply.failed({"code": "context_length_exceeded", "message": "big"}),
            "contextWindowExceeded",
        ),
        (Reply.scripted(drop_after=2), "other"),
    ],
    ids=["400", "cyber", "401", "403", "quota", "500", "invalid-prompt", "context", "dropped"],
)
async def test_a_failed_turn_reports_the_reference_codex_error_info(
    no_retries: RawClient, emulator: ResponsesEmulator, reply: Reply, info: Any
) -> None:
    client = no_retries
    thread = await client.result("thread/start", {})
    emulator.enqueue(reply)
    started = await client.result(
        "turn/start",
        {"threadId": thread["thread"]["id"], "input": [{"type": "text", "text": "fail"}]},
    )
    turn = await client.turn_completed(started["turn"]["id"])
    assert turn["status"] == "failed"
    assert turn["error"]["codexErrorInfo"] == info
