"""Images, local images, mentions and skills in ``turn/start``, over raw JSON-RPC (every message
validated against the reference schema): what the model reads and what the thread shows, as
codex 0.163 does it."""

from __future__ import annotations

import base64
import contextlib
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import RawClient, start_thread

Json = dict[str, Any]


def png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def client(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[RawClient]:
    raw = await RawClient.start(codex_home, workdir, emulator)
    try:
        await raw.initialize()
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


async def run(client: RawClient, thread_id: str, items: list[Json]) -> Json:
    """Run a turn with ``items``; its userMessage item."""
    started = await client.result("turn/start", {"threadId": thread_id, "input": items})
    turn_id = started["turn"]["id"]
    assert (await client.turn_completed(turn_id))["status"] == "completed"
    (user,) = [
        m["params"]["item"]
        for m in client.of_turn(turn_id)
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "userMessage"
    ]
    return user


def latest_user_messages(emulator: ResponsesEmulator) -> list[Json]:
    body = emulator.requests_of("http")[-1].body
    items = body["input"]
    last_answer = max(
        (i for i, item in enumerate(items) if item.get("role") == "assistant"), default=-1
    )
    return [item for item in items[last_answer + 1 :] if item.get("role") == "user"]


async def test_images_mentions_and_skills_reach_the_model_as_the_reference_sends_them(
    client: RawClient, emulator: ResponsesEmulator, workdir: Path, codex_home: Path
) -> None:
    image = png()
    (workdir / "shot.png").write_bytes(image)
    (workdir / "notes.txt").write_text("not an image")
    skill = codex_home / "skills" / "demo" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\nname: demo\ndescription: A demo skill\n---\n\nDo the demo thing.\n")
    elsewhere = workdir / "other" / "SKILL.md"
    elsewhere.parent.mkdir()
    elsewhere.write_text("never read")
    missing = workdir / "gone.png"
    thread_id = await start_thread(client, cwd=str(workdir))
    items: list[Json] = [
        {"type": "text", "text": "look at these", "text_elements": []},
        {"type": "localImage", "path": "shot.png"},
        {"type": "image", "url": data_url(image)},
        {"type": "localImage", "path": str(missing)},
        {"type": "localImage", "path": str(workdir / "notes.txt")},
        {"type": "mention", "name": "notes", "path": str(workdir / "notes.txt")},
        {"type": "skill", "name": "demo", "path": str(skill)},
        {"type": "skill", "name": "other", "path": str(elsewhere)},
    ]
    user = await run(client, thread_id, items)
    shown = [
        {"type": "text", "text": "look at these", "text_elements": []},
        {"type": "localImage", "path": "shot.png", "detail": None},
        {"type": "image", "url": data_url(image), "detail": None},
        {"type": "localImage", "path": str(missing), "detail": None},
        {"type": "localImage", "path": str(workdir / "notes.txt"), "detail": None},
        {"type": "mention", "name": "notes", "path": str(workdir / "notes.txt")},
        {"type": "skill", "name": "demo", "path": str(skill)},
        {"type": "skill", "name": "other", "path": str(elsewhere)},
    ]
    assert user["content"] == shown

    message, injected = latest_user_messages(emulator)[-2:]
    assert message["content"] == [
        {"type": "input_text", "text": "look at these"},
        {"type": "input_text", "text": '<image name=[Image #1] path="shot.png">'},
        {"type": "input_image", "image_url": data_url(image)},
        {"type": "input_text", "text": "</image>"},
        {"type": "input_image", "image_url": data_url(image)},
        {
            "type": "input_text",
            "text": f"Codex could not read the local image at `{missing}`: "
            "No such file or directory (os error 2)",
        },
        {"type": "input_text", "text": f'<image name=[Image #3] path="{workdir / "notes.txt"}">'},
        {"type": "input_text", "text": "image content omitted because it could not be processed"},
        {"type": "input_text", "text": "</image>"},
    ]
    # Only a skill codex knows (under $CODEX_HOME/skills) is read, in a message of its own.
    assert injected["content"] == [
        {
            "type": "input_text",
            "text": f"<skill>\n<name>demo</name>\n<path>{skill}</path>\n"
            "---\nname: demo\ndescription: A demo skill\n---\n\nDo the demo thing.\n\n</skill>",
        }
    ]

    # thread/read shows the same content, live and from the rollout.
    read = await client.result("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert read["thread"]["turns"][0]["items"][0]["content"] == shown
    assert read["thread"]["preview"] == "look at these"
    await client.result("thread/unsubscribe", {"threadId": thread_id})
    resumed = await client.result("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["turns"][0]["items"][0]["content"] == shown
    # The injected skill is context, not a turn of its own.
    assert len(resumed["thread"]["turns"]) == 1


async def test_a_remote_image_url_is_refused_as_the_reference_refuses_it(
    client: RawClient, emulator: ResponsesEmulator
) -> None:
    thread_id = await start_thread(client)
    refused = await client.error(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "image", "url": "https://example.com/x.png"}]},
    )
    assert (refused["code"], refused["message"]) == (
        -32600,
        "remote image URLs are not supported; use an inline data URL instead",
    )
    unknown = await client.error(
        "turn/start", {"threadId": thread_id, "input": [{"type": "audio", "path": "x"}]}
    )
    assert unknown["code"] == -32600 and "input.0" in unknown["message"]
    assert emulator.requests_of("http") == []
