"""``view_image`` against the strict emulator scripted as the model: a readable image goes back
as an ``input_image`` data URL in the call's output; a file that is not an image, missing, too
large or outside what the sandbox policy lets the model read is refused with a clear reason."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from codex_engine.config.catalog import find_model_info
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.view_image import MAX_IMAGE_BYTES, ViewImageTool
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.test_app_server import RawClient, start_thread, start_turn

#: The smallest valid PNG: 1x1, one transparent pixel.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    (path / "pic.png").write_bytes(PNG)
    (path / "notes.txt").write_text("not an image\n")
    return path


async def view(
    emulator: ResponsesEmulator, home: Path, cwd: Path, arguments: dict[str, Any], *flags: str
) -> Any:
    """Run one exec turn whose model calls view_image; the output the model got back."""
    emulator.enqueue(Reply.function_call("view_image", arguments, "call_img"), Reply.text("seen"))
    result = await run_cli(
        "exec",
        "-m",
        "gpt-5.1-codex",
        "--skip-git-repo-check",
        *flags,
        *emulator_flags(emulator.base_url),
        "look",
        home=home,
        cwd=cwd,
    )
    assert result.code == 0, result.stderr
    follow_up = emulator.requests_of("http")[-1].body["input"]
    [output] = [i for i in follow_up if i.get("type") == "function_call_output"]
    return output["output"]


async def test_an_image_in_the_workspace_is_sent_as_an_input_image(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    output = await view(emulator, codex_home, work, {"path": "pic.png"})
    encoded = base64.b64encode(PNG).decode()
    assert output == [{"type": "input_image", "image_url": f"data:image/png;base64,{encoded}"}]
    tools = {t.get("name"): t for t in emulator.requests_of("http")[0].body["tools"]}
    assert tools["view_image"]["parameters"]["required"] == ["path"]


async def test_detail_original_is_passed_on(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    output = await view(emulator, codex_home, work, {"path": "pic.png", "detail": "original"})
    assert output[0]["detail"] == "original"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.txt", "is not a PNG, JPEG, GIF or WebP image"),
        ("missing.png", "does not exist"),
        (".", "is not a file"),
    ],
)
async def test_unreadable_or_non_image_files_are_refused(
    emulator: ResponsesEmulator, codex_home: Path, work: Path, name: str, reason: str
) -> None:
    output = await view(emulator, codex_home, work, {"path": name})
    assert isinstance(output, str) and output.startswith("cannot view") and reason in output


async def test_an_image_outside_the_readable_roots_is_refused(
    emulator: ResponsesEmulator, codex_home: Path, work: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "secret.png"
    outside.parent.mkdir()
    outside.write_bytes(PNG)
    output = await view(emulator, codex_home, work, {"path": str(outside)}, "-s", "read-only")
    assert isinstance(output, str)
    assert "outside what sandbox mode 'read-only' lets you read" in output
    # A symlink inside the workspace does not reach out either.
    (work / "link.png").symlink_to(outside)
    output = await view(emulator, codex_home, work, {"path": "link.png"}, "-s", "read-only")
    assert isinstance(output, str) and "outside" in output
    # --add-dir makes it readable; full access reads anywhere.
    added = await view(
        emulator, codex_home, work, {"path": str(outside)}, "-s", "read-only",
        "--add-dir", str(outside.parent),
    )  # fmt: skip
    assert added[0]["type"] == "input_image"
    anywhere = await view(
        emulator, codex_home, work, {"path": str(outside)}, "-s", "danger-full-access"
    )
    assert anywhere[0]["type"] == "input_image"


async def test_a_too_large_image_and_bad_arguments_are_refused(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    (work / "huge.png").write_bytes(PNG + b"\0" * MAX_IMAGE_BYTES)
    output = await view(emulator, codex_home, work, {"path": "huge.png"})
    assert isinstance(output, str) and "limit" in output and "smaller copy" in output
    output = await view(emulator, codex_home, work, {"path": "pic.png", "detail": "tiny"})
    assert isinstance(output, str) and output.startswith("invalid arguments")


@pytest.mark.parametrize(
    ("model", "params"), [("gpt-5.5", {"detail", "path"}), ("gpt-5.1-codex", {"path"})]
)
def test_offered_to_image_models_with_detail_where_the_catalog_allows(
    tmp_path: Path, model: str, params: set[str]
) -> None:
    info, _ = find_model_info(model)
    settings = SessionSettings(cwd=tmp_path, model_info=info, base_instructions="")
    [spec] = ViewImageTool().specs(settings)
    assert set(json.loads(json.dumps(spec["parameters"]))["properties"]) == params
    text_only = msgspec.structs.replace(info, input_modalities=["text"])
    no_images = SessionSettings(cwd=tmp_path, model_info=text_only, base_instructions="")
    assert ViewImageTool().specs(no_images) == []


async def test_the_app_server_shows_the_viewed_image_as_an_image_view_item(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    emulator.enqueue(Reply.function_call("view_image", {"path": "pic.png"}), Reply.text("seen"))
    client = await RawClient.start(codex_home, work, emulator)
    try:
        await client.initialize()
        thread_id = await start_thread(client, cwd=str(work))
        await client.turn_completed(await start_turn(client, thread_id, "look"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
    viewed = [
        m["params"]["item"]
        for m in client.notifications
        if m["method"] == "item/completed" and m["params"]["item"]["type"] == "imageView"
    ]
    assert [item["path"] for item in viewed] == [str((work / "pic.png").resolve())]
    assert client.schema_errors() == []
