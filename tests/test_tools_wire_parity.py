"""Our ``tools`` array per model family against what codex 0.163 sends
(tests/reference/tools_0.163.json, captured with the default config, read-only sandbox,
approval never): for every tool we implement, the same name, type and parameter schema
(descriptions aside, as the capture leaves them out). Tools the reference offers that we do not
implement yet are listed below, so the test fails when one appears without its schema being
checked, and when a schema drifts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "tools_0.163.json").read_text("utf-8")
)["models"]

#: Offered by 0.163, not (yet) by us. Remove a name here when it lands; its schema is then
#: compared like the others.
NOT_YET = {
    # Sub-agents (a namespace of tools): not planned yet.
    "multi_agent_v1",
    # Client-side tool search over deferred tools (`type: tool_search`): not planned yet.
    "tool_search",
}
#: Offered by us, not by 0.163, per model, and why.
OURS_ONLY: dict[str, set[str]] = {
    # 0.163 does not know the slug gpt-5.1-codex (fallback metadata: no apply_patch); our
    # catalog keeps our own (hidden) entry, whose apply_patch kind is freeform.
    "gpt-5.1-codex": {"apply_patch"},
    "gpt-5.5": set(),
}


def key(tool: dict[str, Any]) -> str:
    """A tool's identity: its name, or its type for hosted tools (web_search, tool_search)."""
    return str(tool.get("name") or tool["type"])


def comparable(value: Any) -> Any:
    """``value`` without descriptions and without the grammar text (left out of the capture)."""
    if isinstance(value, dict):
        return {
            k: comparable(v)
            for k, v in value.items()
            if k not in ("description", "definition") or not isinstance(v, str)
        }
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


async def offered_tools(
    emulator: ResponsesEmulator, home: Path, cwd: Path, model: str
) -> dict[str, Any]:
    """The first request of one exec turn with ``model`` under 0.163's capture settings."""
    emulator.enqueue(Reply.text("ok"))
    result = await run_cli(
        "exec", "--skip-git-repo-check", "-m", model, "-s", "read-only",
        "-c", "approval_policy=never", *emulator_flags(emulator.base_url), "hi",
        home=home, cwd=cwd,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    bodies = [
        r.body
        for r in emulator.requests
        if r.kind in ("http", "ws_message") and isinstance(r.body, dict) and "tools" in r.body
    ]
    assert bodies, "no model request was made"
    return bodies[0]


@pytest.mark.parametrize("model", sorted(REFERENCE))
async def test_our_tools_match_the_reference_per_model(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path, model: str
) -> None:
    body = await offered_tools(emulator, codex_home, tmp_path, model)
    ours = {key(t): t for t in body["tools"]}
    theirs = {key(t): t for t in REFERENCE[model]["tools"]}
    assert len(ours) == len(body["tools"]), "a tool is offered twice"

    appeared = NOT_YET & set(ours)
    assert not appeared, f"now offered: {appeared}; take them out of NOT_YET to compare them"
    missing = set(theirs) - set(ours) - NOT_YET
    assert not missing, f"0.163 offers {missing} to {model}, we do not"
    extra = set(ours) - set(theirs) - OURS_ONLY[model]
    assert not extra, f"we offer {extra} to {model}, 0.163 does not"
    assert OURS_ONLY[model] <= set(ours), "an OURS_ONLY entry is stale"

    for name in sorted(set(ours) & set(theirs)):
        assert comparable(ours[name]) == comparable(theirs[name]), f"{name} differs for {model}"
    assert body["parallel_tool_calls"] == REFERENCE[model]["parallel_tool_calls"]
