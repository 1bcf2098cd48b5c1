"""``exec --json`` line by line against the reference 0.163's output for the same scripted turns
(a text answer, a tool call, a failed request), recorded in tests/captures/exec_json.json by
scripts/capture_exec_json.py: same event and item types in the same order, every reference field
present with the same kind of value (ours may add fields), same exit code, same ``-o`` outcome."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply
from tests.conftest import emulator_flags, run_cli

CAPTURE = json.loads((Path(__file__).parent / "captures" / "exec_json.json").read_text())
_KEPT = {"type", "status"}


def shape(value: Any) -> Any:
    """As the capture script records a line: keys and kinds of values, types and statuses kept."""
    if isinstance(value, dict):
        return {k: v if k in _KEPT else shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    if isinstance(value, bool) or value is None:
        return value
    return type(value).__name__


def covers(ours: Any, reference: Any, where: str) -> None:
    """Every field of the reference's line is in ours, with the same kind of value."""
    if isinstance(reference, dict):
        assert isinstance(ours, dict), where
        for key, value in reference.items():
            assert key in ours, f"{where}: missing `{key}`"
            covers(ours[key], value, f"{where}.{key}")
    else:
        assert ours == reference, f"{where}: {ours!r} where the reference has {reference!r}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.mark.parametrize("scenario", ["text", "tool", "failed"])
async def test_exec_json_matches_the_reference_line_by_line(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, scenario: str
) -> None:
    if scenario == "tool":
        # The command tool both offer by default (as the capture script calls it).
        emulator.enqueue(Reply.function_call("exec_command", {"cmd": "echo hi"}))
    elif scenario == "failed":
        emulator.enqueue(Reply.status(400))
    last = repo / "last.txt"
    result = await run_cli(
        "exec", "--json", "-s", "danger-full-access", "-o", str(last),
        *emulator_flags(emulator.base_url), "hello", home=codex_home, cwd=repo,
    )  # fmt: skip
    reference = CAPTURE["scenarios"][scenario]["reference"]
    assert result.code == reference["exit_code"], result.stderr
    assert last.exists() == reference["last_message_file_written"]
    ours = [shape(json.loads(line)) for line in result.stdout.splitlines()]
    assert len(ours) == len(reference["events"]), result.stdout
    for number, (line, expected) in enumerate(zip(ours, reference["events"], strict=True)):
        covers(line, expected, f"line {number + 1}")
