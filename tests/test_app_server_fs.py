"""``fs/*`` and ``fuzzyFileSearch`` through real pipes: what the reference does with files, but
confined to the directories the server works in (its cwd and its loaded threads' cwds). Every
message the server writes is checked against the reference schema."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import RawClient


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
    await raw.initialize()
    try:
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def code_of(client: RawClient, method: str, params: dict[str, Any]) -> int:
    code: int = (await client.error(method, params))["code"]
    return code


async def test_files_are_read_written_listed_copied_and_removed(
    client: RawClient, workdir: Path
) -> None:
    blob = bytes(range(256))
    target = workdir / "a.bin"
    assert await client.result("fs/writeFile", {"path": str(target), "dataBase64": b64(blob)}) == {}
    read = await client.result("fs/readFile", {"path": str(target)})
    assert base64.b64decode(read["dataBase64"]) == blob
    assert await client.result("fs/createDirectory", {"path": str(workdir / "d1" / "d2")}) == {}
    meta = await client.result("fs/getMetadata", {"path": str(target)})
    assert (meta["isFile"], meta["isDirectory"], meta["isSymlink"]) == (True, False, False)
    assert meta["modifiedAtMs"] > 0
    listing = await client.result("fs/readDirectory", {"path": str(workdir)})
    assert listing["entries"] == [
        {"fileName": "a.bin", "isDirectory": False, "isFile": True},
        {"fileName": "d1", "isDirectory": True, "isFile": False},
    ]
    copy = {"sourcePath": str(workdir / "d1"), "destinationPath": str(workdir / "d3")}
    assert await code_of(client, "fs/copy", copy) == -32600
    assert await client.result("fs/copy", {**copy, "recursive": True}) == {}
    assert (
        await client.result(
            "fs/copy", {"sourcePath": str(target), "destinationPath": str(workdir / "b.bin")}
        )
        == {}
    )
    assert (await client.result("fs/readFile", {"path": str(workdir / "b.bin")}))[
        "dataBase64"
    ] == b64(blob)
    assert await code_of(
        client, "fs/remove", {"path": str(workdir / "d1"), "recursive": False}
    ) == (-32603)
    assert await client.result("fs/remove", {"path": str(workdir / "d3")}) == {}
    assert await client.result("fs/remove", {"path": str(workdir / "missing")}) == {}
    missing = await client.error("fs/remove", {"path": str(workdir / "missing"), "force": False})
    assert missing["code"] == -32603 and "missing" in missing["message"]
    listing = await client.result("fs/readDirectory", {"path": str(workdir)})
    assert [e["fileName"] for e in listing["entries"]] == ["a.bin", "b.bin", "d1"]


async def test_bad_requests_and_os_failures_answer_as_the_reference(
    client: RawClient, workdir: Path
) -> None:
    nowhere = str(workdir / "missing.txt")
    failures = [
        ("fs/readFile", {"path": "relative.txt"}, -32600, "not an absolute path"),
        ("fs/readFile", {"path": nowhere}, -32603, "cannot read"),
        ("fs/readFile", {"path": str(workdir)}, -32600, "is not a file"),
        ("fs/writeFile", {"path": nowhere, "dataBase64": "!!"}, -32600, "base64"),
        (
            "fs/writeFile",
            {"path": str(workdir / "no" / "dir.txt"), "dataBase64": b64(b"x")},
            -32603,
            "fs/createDirectory",
        ),
        (
            "fs/createDirectory",
            {"path": str(workdir / "e1" / "e2"), "recursive": False},
            -32603,
            "cannot create",
        ),
        ("fs/getMetadata", {"path": nowhere}, -32603, "cannot inspect"),
        ("fs/readDirectory", {"path": nowhere}, -32603, "cannot list"),
        ("fs/remove", {"path": str(workdir)}, -32600, "root"),
    ]
    for method, params, code, text in failures:
        error = await client.error(method, params)
        assert (error["code"], text in error["message"]) == (code, True), (method, error)
    assert os.listdir(workdir) == []


async def test_paths_outside_the_working_roots_are_refused(
    client: RawClient, workdir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("not yours")
    (workdir / "link").symlink_to(outside)
    for method, params in [
        ("fs/readFile", {"path": str(secret)}),
        ("fs/readFile", {"path": str(workdir / "link" / "secret.txt")}),
        ("fs/writeFile", {"path": str(outside / "new.txt"), "dataBase64": b64(b"x")}),
        ("fs/remove", {"path": str(secret)}),
        ("fs/copy", {"sourcePath": str(secret), "destinationPath": str(workdir / "s.txt")}),
        ("fuzzyFileSearch", {"query": "sec", "roots": [str(outside)]}),
    ]:
        error = await client.error(method, params)
        assert error["code"] == -32600 and "outside the directories" in error["message"]
    assert secret.read_text() == "not yours" and not (outside / "new.txt").exists()
    # A thread working there makes it a root.
    await client.result("thread/start", {"cwd": str(outside)})
    read = await client.result("fs/readFile", {"path": str(secret)})
    assert base64.b64decode(read["dataBase64"]) == b"not yours"


async def test_fuzzy_file_search_finds_files_by_their_characters_in_order(
    client: RawClient, workdir: Path
) -> None:
    for name in ("a.txt", "a2.txt", "watched.txt", "src/app/main.py", ".git/HEAD"):
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = await client.result("fuzzyFileSearch", {"query": "atx", "roots": [str(workdir)]})
    files = found["files"]
    assert [f["path"] for f in files] == ["a.txt", "a2.txt", "watched.txt"]
    assert files[0] == {
        "root": str(workdir),
        "path": "a.txt",
        "match_type": "file",
        "file_name": "a.txt",
        "score": files[0]["score"],
        "indices": [0, 2, 3],
    }
    assert files[2]["indices"] == [1, 8, 9]
    nested = await client.result("fuzzyFileSearch", {"query": "main", "roots": [str(workdir)]})
    assert [f["path"] for f in nested["files"]] == ["src/app/main.py"]
    assert nested["files"][0]["file_name"] == "main.py"
    assert (await client.result("fuzzyFileSearch", {"query": "", "roots": [str(workdir)]})) == {
        "files": []
    }
    head = await client.result("fuzzyFileSearch", {"query": "HEAD", "roots": [str(workdir)]})
    assert head["files"] == []


async def test_a_watch_reports_changes_until_it_is_stopped(
    client: RawClient, workdir: Path, tmp_path: Path
) -> None:
    watched = await client.result("fs/watch", {"path": str(workdir), "watchId": "w1"})
    assert watched == {"path": str(workdir)}
    again = await client.error("fs/watch", {"path": str(workdir), "watchId": "w1"})
    assert again["code"] == -32600 and "w1" in again["message"]
    outside = await client.error("fs/watch", {"path": str(tmp_path), "watchId": "w9"})
    assert outside["code"] == -32600
    later = workdir / "later.txt"
    await client.result("fs/watch", {"path": str(later), "watchId": "file"})

    await client.result("fs/writeFile", {"path": str(later), "dataBase64": b64(b"new")})
    for watch_id in ("w1", "file"):
        note = await client.wait_for(
            lambda m, w=watch_id: m["method"] == "fs/changed" and m["params"]["watchId"] == w
        )
        assert str(later) in note["params"]["changedPaths"]

    assert await client.result("fs/unwatch", {"watchId": "w1"}) == {}
    assert await client.result("fs/unwatch", {"watchId": "w1"}) == {}
    await client.result("fs/watch", {"path": str(workdir), "watchId": "w2"})
    (workdir / "after.txt").write_text("x")
    await client.wait_for(lambda m: m["method"] == "fs/changed" and m["params"]["watchId"] == "w2")
    reported = [
        m["params"]["changedPaths"]
        for m in client.notifications
        if m["method"] == "fs/changed" and m["params"]["watchId"] == "w1"
    ]
    assert all(str(workdir / "after.txt") not in paths for paths in reported)
