"""``apply_patch`` as a custom (freeform) tool for the models whose catalog says ``freeform``:
offered with its Lark grammar, the model's raw patch applied, and the answer sent back as a
``custom_tool_call_output`` (the strict emulator refuses a request that leaves the call
unanswered or answers it in the wrong kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config.catalog import find_model_info
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import ApplyPatchTool
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli

PATCH = (
    "*** Begin Patch\n*** Add File: hello.txt\n+freeform\n"
    "*** Update File: F\n@@\n-old\n+new\n*** End Patch\n"
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    (path / "F").write_text("old\n")
    return path


async def _exec(emulator: ResponsesEmulator, home: Path, cwd: Path, *replies: Reply) -> list[Any]:
    emulator.enqueue(*replies, Reply.text("done"))
    result = await run_cli(
        "exec",
        "--json",
        "-m",
        "gpt-5.1-codex",
        "-s",
        "workspace-write",
        "--skip-git-repo-check",
        *emulator_flags(emulator.base_url),
        "edit",
        home=home,
        cwd=cwd,
    )
    assert result.code == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _custom_outputs(emulator: ResponsesEmulator) -> list[dict[str, Any]]:
    return [
        item
        for request in emulator.requests_of("http")
        for item in request.body["input"]
        if item.get("type") == "custom_tool_call_output"
    ]


async def test_a_freeform_patch_is_applied_and_answered_as_a_custom_tool_output(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    events = await _exec(
        emulator, codex_home, work, Reply.custom_tool_call("apply_patch", PATCH, "call_p1")
    )
    assert (work / "hello.txt").read_text() == "freeform\n"
    assert (work / "F").read_text() == "new\n"
    first, follow_up = emulator.requests_of("http")
    spec = next(t for t in first.body["tools"] if t.get("name") == "apply_patch")
    assert spec["type"] == "custom"
    assert spec["format"]["type"] == "grammar" and spec["format"]["syntax"] == "lark"
    assert spec["format"]["definition"].startswith("start: ")
    # The call is replayed as the model made it, followed by its answer in the same kind.
    replay = [i for i in follow_up.body["input"] if i.get("call_id") == "call_p1"]
    assert [i["type"] for i in replay] == ["custom_tool_call", "custom_tool_call_output"]
    assert replay[0]["input"] == PATCH
    assert replay[1]["output"].startswith("Success. Updated the following files:")
    assert "A hello.txt" in replay[1]["output"] and "M F" in replay[1]["output"]
    # The same file_change item exec --json shows for any other patch.
    changes = [e["item"] for e in events if e["type"] == "item.completed"]
    assert [c["status"] for c in changes if c["type"] == "file_change"] == ["completed"]
    # The rollout records both items, so a resumed session replays them.
    rollouts = list((codex_home / "sessions").rglob("*.jsonl"))
    recorded = [json.loads(line) for line in rollouts[0].read_text().splitlines()]
    kinds = [r["payload"].get("type") for r in recorded if r.get("type") == "response_item"]
    assert "custom_tool_call" in kinds and "custom_tool_call_output" in kinds


async def test_a_malformed_freeform_patch_is_explained_and_touches_nothing(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    bad = "*** Begin Patch\n*** Update File: F\n@@\n-not there\n+x\n*** End Patch\n"
    await _exec(emulator, codex_home, work, Reply.custom_tool_call("apply_patch", bad))
    assert (work / "F").read_text() == "old\n"
    [output] = _custom_outputs(emulator)
    assert output["output"].startswith("apply_patch verification failed:")


async def test_an_unknown_custom_tool_is_answered_in_kind(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    await _exec(emulator, codex_home, work, Reply.custom_tool_call("no_such_tool", "x"))
    [output] = _custom_outputs(emulator)
    assert output["output"] == "unsupported tool 'no_such_tool'"


@pytest.mark.parametrize(
    ("model", "kind"), [("gpt-5.5", "custom"), ("gpt-5.2", "function"), ("unknown-x", None)]
)
def test_the_catalog_kind_picks_the_spec(tmp_path: Path, model: str, kind: str | None) -> None:
    info, _ = find_model_info(model)
    settings = SessionSettings(cwd=tmp_path, model_info=info, base_instructions="")
    specs = ApplyPatchTool().specs(settings)
    assert [s["type"] for s in specs] == ([kind] if kind else [])
