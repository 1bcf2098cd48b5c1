"""``exec`` flags the reference has (-i, --output-schema, -o, --ephemeral, --add-dir, resume
--last/--all), stdin appended to a prompt, and their errors: the CLI as a subprocess against the
emulator, checked by what reached the emulator and what landed on disk."""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.test_cli_exec import assert_one_line_error


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return _git_repo(tmp_path / "repo")


def _last_user_content(emulator: ResponsesEmulator) -> list[dict[str, Any]]:
    body = emulator.requests_of("http")[-1].body
    users = [i for i in body["input"] if i.get("type") == "message" and i["role"] == "user"]
    content: list[dict[str, Any]] = users[-1]["content"]
    return content


def _rollouts(home: Path) -> list[Path]:
    return sorted((home / "sessions").rglob("rollout-*.jsonl"))


async def test_image_schema_and_last_message_reach_the_wire_and_the_file(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    (repo / "dot.png").write_bytes(_png())
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    (repo / "schema.json").write_text(json.dumps(schema))
    out = repo / "last.txt"
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "-i", "dot.png",
        "--output-schema", "schema.json", "-o", str(out), "describe it",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    content = _last_user_content(emulator)
    # As the reference sends a local image: label, data URL, closing label, then the prompt.
    kinds = [p["type"] for p in content]
    assert kinds == ["input_text", "input_image", "input_text", "input_text"]
    assert content[0]["text"] == '<image name=[Image #1] path="dot.png">'
    assert content[1]["image_url"] == "data:image/png;base64," + base64.b64encode(_png()).decode()
    assert content[2]["text"] == "</image>" and content[3]["text"] == "describe it"
    text_format = emulator.requests_of("http")[-1].body["text"]["format"]
    assert text_format == {
        "type": "json_schema", "strict": True, "schema": schema, "name": "codex_output_schema"
    }  # fmt: skip
    answer = result.stdout.rstrip("\n")
    assert answer and out.read_text() == answer
    assert not [n for n in os.listdir(repo) if n.startswith(".last.txt")]  # no temp file left


async def test_piped_stdin_is_appended_to_the_prompt_in_stdin_tags(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "summarise",
        home=codex_home, cwd=repo, stdin="line one\nline two",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    text = _last_user_content(emulator)[-1]["text"]
    assert text == "summarise\n\n<stdin>\nline one\nline two\n</stdin>"


async def test_ephemeral_leaves_no_session_file(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    args = ("exec", *emulator_flags(emulator.base_url))
    result = await run_cli(*args, "--ephemeral", "hello", home=codex_home, cwd=repo)
    assert result.code == 0, result.stderr
    assert _rollouts(codex_home) == []
    result = await run_cli(*args, "hello", home=codex_home, cwd=repo)
    assert result.code == 0 and len(_rollouts(codex_home)) == 1


def _thread_id(stdout: str) -> str:
    first = json.loads(stdout.splitlines()[0])
    assert first["type"] == "thread.started"
    thread: str = first["thread_id"]
    return thread


async def test_resume_last_picks_the_working_directorys_session_and_all_the_newest(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    one, two = _git_repo(tmp_path / "one"), _git_repo(tmp_path / "two")
    args = ("exec", "--json", *emulator_flags(emulator.base_url))
    first = await run_cli(*args, "in one", home=codex_home, cwd=one)
    second = await run_cli(*args, "in two", home=codex_home, cwd=two)
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    again = await run_cli(*args, "resume", "--last", "back in one", home=codex_home, cwd=one)
    assert again.code == 0, again.stderr
    assert _thread_id(again.stdout) == _thread_id(first.stdout)
    anywhere = await run_cli(*args, "resume", "--last", "--all", "newest", home=codex_home, cwd=two)
    assert anywhere.code == 0, anywhere.stderr
    # --all: the newest session by start time, wherever it ran (two's started after one's).
    assert _thread_id(anywhere.stdout) == _thread_id(second.stdout)


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory outside /tmp (which workspace-write always lets commands write)."""
    path = Path(tempfile.mkdtemp(prefix="codex-add-dir-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_add_dir_is_writable_in_the_workspace_write_sandbox(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, outside_tmp: Path
) -> None:
    other = outside_tmp
    args = ("exec", "-s", "workspace-write", *emulator_flags(emulator.base_url))
    prompt = f"run `touch {other}/made`"
    denied = await run_cli(*args, prompt, home=codex_home, cwd=repo)
    assert denied.code == 0, denied.stderr
    assert not (other / "made").exists()  # outside the writable roots without --add-dir
    allowed = await run_cli(*args, "--add-dir", str(other), prompt, home=codex_home, cwd=repo)
    assert allowed.code == 0, allowed.stderr
    assert (other / "made").exists()


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["-i", "missing.png"], "cannot read the image"),
        (["-i", "notes.txt"], "not a supported image type"),
        (["--output-schema", "bad.json"], "not valid JSON"),
        (["-o", "nowhere/last.txt"], "does not exist"),
    ],
    ids=["unreadable-image", "not-an-image", "bad-schema", "output-dir-missing"],
)
async def test_unusable_inputs_are_one_line_errors_before_any_request(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, flags: list[str], needle: str
) -> None:
    (repo / "notes.txt").write_text("hi")
    (repo / "bad.json").write_text("{nope")
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), *flags, "hello", home=codex_home, cwd=repo
    )
    assert result.code == 1
    assert_one_line_error(result, needle)
    assert emulator.requests_of("http") == []
    assert _rollouts(codex_home) == []


async def test_a_prompt_over_one_mebibyte_of_characters_is_refused(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "-",
        home=codex_home, cwd=repo, stdin="é" * ((1 << 20) + 1),
    )  # fmt: skip
    assert result.code == 1
    assert_one_line_error(result, "1,048,577 characters", "1,048,576")
    assert emulator.requests_of("http") == []


async def test_enabling_an_unknown_feature_is_a_configuration_error(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "--enable", "no_such_feature", "hello",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 2
    assert_one_line_error(result, "no_such_feature", "known features:", "responses_websockets")
    assert emulator.requests_of("http") == []


@pytest.mark.parametrize(("choice", "ansi"), [("always", True), ("never", False)])
async def test_color_choice_decides_the_escape_codes_on_stderr(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, choice: str, ansi: bool
) -> None:
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "--color", choice, "hello",
        home=codex_home, cwd=repo, FORCE_COLOR="", NO_COLOR="",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert ("\x1b[" in result.stderr) is ansi
    assert "\x1b[" not in result.stdout  # the answer itself is never coloured


async def test_the_bypass_flag_runs_without_sandbox_and_outside_a_repository(
    emulator: ResponsesEmulator, codex_home: Path, outside_tmp: Path
) -> None:
    target = outside_tmp / "made"
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "--dangerously-bypass-approvals-and-sandbox",
        f"run `touch {target}`", home=codex_home, cwd=outside_tmp,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert target.exists()
