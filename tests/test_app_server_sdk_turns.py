"""The official SDK's turn options, account reads and mid-turn input against codex-engine, with
the async and the sync client, as they behave against codex 0.163."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.sdk_support import run_sync_sdk, sdk_client
from tests.test_app_server_inputs import png

openai_codex = pytest.importorskip("openai_codex")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
PNG = png()
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


# -- steering and joining a running turn -----------------------------------------------------

#: A shell call that runs until the test creates ``go`` in the work directory.
WAIT_FOR_GO = "while [ ! -e go ]; do sleep 0.02; done; echo released"
# The waiting call is a `shell` call, so these threads keep the shell tool (unified exec off).
APPROVE_NOTHING = (
    'approval_policy="never"',
    'sandbox_mode="danger-full-access"',
    "features.unified_exec=false",
)


def _user_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for item in body["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            text = "".join(p.get("text", "") for p in item["content"])
            if not text.startswith("<"):
                texts.append(text)
    return texts


def _script_waiting_turn(emulator: ResponsesEmulator, workdir: Path) -> None:
    call = Reply.function_call(
        "shell", {"command": ["bash", "-c", WAIT_FOR_GO], "workdir": str(workdir)}
    )
    emulator.enqueue(call, Reply.text("done with everything"))


def _check_steered_requests(emulator: ResponsesEmulator) -> None:
    first, second = (r.body for r in emulator.requests_of("http"))
    assert _user_texts(first) == ["start working"]
    assert _user_texts(second) == ["start working", "steered in", "joined in"]


async def test_sdk_steers_and_joins_a_running_turn_async(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    _script_waiting_turn(emulator, workdir)
    async with sdk_client(emulator, codex_home, workdir, *APPROVE_NOTHING) as (codex, _wire):
        thread = await codex.thread_start()
        handle = await thread.turn("start working")
        events = handle.stream()
        async for event in events:
            if (
                event.method == "item/started"
                and event.payload.item.root.type == "commandExecution"
            ):
                break
        steered = await handle.steer("steered in")
        assert steered.turn_id == handle.id
        # thread.turn() on a thread with a running turn joins it instead of failing.
        joined = await thread.turn(openai_codex.TextInput("joined in"))
        assert joined.id == handle.id
        (workdir / "go").touch()
        async for event in events:
            if event.method == "turn/completed":
                assert event.payload.turn.status.value == "completed"
        read = await thread.read(include_turns=True)
        kinds = [item.root.type for item in read.thread.turns[0].items]
        assert kinds.count("userMessage") == 3 and len(read.thread.turns) == 1
    _check_steered_requests(emulator)


async def test_sdk_steers_and_joins_a_running_turn_sync(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    _script_waiting_turn(emulator, workdir)

    def scenario(codex: Any) -> tuple[str, str, str, str]:
        thread = codex.thread_start()
        handle = thread.turn("start working")
        events = handle.stream()
        for event in events:
            if (
                event.method == "item/started"
                and event.payload.item.root.type == "commandExecution"
            ):
                break
        steered = handle.steer("steered in")
        joined = thread.turn("joined in")
        (workdir / "go").touch()
        status = ""
        for event in events:
            if event.method == "turn/completed":
                status = event.payload.turn.status.value
        return handle.id, steered.turn_id, joined.id, status

    turn_id, steered_id, joined_id, status = await run_sync_sdk(
        emulator, codex_home, workdir, scenario, *APPROVE_NOTHING
    )
    assert steered_id == joined_id == turn_id and status == "completed"
    _check_steered_requests(emulator)


# -- image, local image, mention and skill inputs ------------------------------------------------


def _inputs(workdir: Path, codex_home: Path) -> tuple[list[Any], list[dict[str, Any]]]:
    """SDK input items, and the content the thread shows for them."""
    (workdir / "shot.png").write_bytes(PNG)
    skill = codex_home / "skills" / "demo" / "SKILL.md"
    skill.parent.mkdir(parents=True, exist_ok=True)
    skill.write_text("Do the demo thing.\n")
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    items = [
        openai_codex.TextInput("describe"),
        openai_codex.ImageInput(url),
        openai_codex.LocalImageInput(str(workdir / "shot.png")),
        openai_codex.MentionInput("shot", str(workdir / "shot.png")),
        openai_codex.SkillInput("demo", str(skill)),
    ]
    shown = [
        {"type": "text", "text": "describe", "text_elements": []},
        {"type": "image", "url": url, "detail": None},
        {"type": "localImage", "path": str(workdir / "shot.png"), "detail": None},
        {"type": "mention", "name": "shot", "path": str(workdir / "shot.png")},
        {"type": "skill", "name": "demo", "path": str(skill)},
    ]
    return items, shown


def _check_model_input(emulator: ResponsesEmulator, workdir: Path) -> None:
    body = emulator.requests_of("http")[-1].body
    users = [i for i in body["input"] if i.get("role") == "user"]
    message, skill = users[-2:]
    kinds = [part["type"] for part in message["content"]]
    assert kinds == ["input_text", "input_image", "input_text", "input_image", "input_text"]
    assert message["content"][2]["text"] == f'<image name=[Image #1] path="{workdir / "shot.png"}">'
    assert skill["content"][0]["text"].startswith("<skill>\n<name>demo</name>")


async def test_sdk_sends_images_mentions_and_skills_async(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    items, shown = _inputs(workdir, codex_home)
    async with sdk_client(emulator, codex_home, workdir) as (codex, _wire):
        thread = await codex.thread_start()
        result = await thread.run(items)
        assert result.status.value == "completed"
        read = await thread.read(include_turns=True)
        user = read.thread.turns[0].items[0].root
        assert [part.model_dump(mode="json", by_alias=True) for part in user.content] == shown
    _check_model_input(emulator, workdir)


async def test_sdk_sends_images_mentions_and_skills_sync(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    items, shown = _inputs(workdir, codex_home)

    def scenario(codex: Any) -> list[Any]:
        thread = codex.thread_start()
        assert thread.run(items).status.value == "completed"
        user = thread.read(include_turns=True).thread.turns[0].items[0].root
        return [part.model_dump(mode="json", by_alias=True) for part in user.content]

    assert await run_sync_sdk(emulator, codex_home, workdir, scenario) == shown
    _check_model_input(emulator, workdir)
