"""Every listed feature flag does what it says, through ``codex-engine`` as a user runs it; the
removed ones are accepted with a warning and not advertised."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codex_engine.config.features import FEATURES, Stage
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def tool_names(tools: list[dict[str, object]]) -> list[object]:
    return [tool.get("name", tool["type"]) for tool in tools]


async def test_disabling_shell_tool_neither_offers_nor_runs_the_shell(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    emulator.enqueue(
        Reply.function_call("shell", {"command": ["touch", "marker"]}, call_id="call_1"),
        Reply.text("done"),
    )
    result = await run_cli(
        "exec", "-s", "danger-full-access", "--disable", "shell_tool",
        *emulator_flags(emulator.base_url), "make a marker",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    first, follow_up = emulator.requests_of("http")
    assert "shell" not in tool_names(first.body["tools"])
    assert "exec_command" not in tool_names(first.body["tools"])
    assert not (repo / "marker").exists()
    outputs = [i for i in follow_up.body["input"] if i.get("type") == "function_call_output"]
    assert [o["output"] for o in outputs] == ["unsupported tool 'shell'"]


async def test_a_command_tool_is_offered_by_default_and_shell_without_unified_exec(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    # Features shell_tool and unified_exec are both on by default: exec_command, not shell.
    result = await run_cli(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    (request,) = emulator.requests_of("http")
    assert "exec_command" in tool_names(request.body["tools"])
    assert "shell" not in tool_names(request.body["tools"])
    result = await run_cli(
        "exec", "--disable", "unified_exec", *emulator_flags(emulator.base_url), "hi",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    _, request = emulator.requests_of("http")
    assert "shell" in tool_names(request.body["tools"])
    assert "exec_command" not in tool_names(request.body["tools"])


async def test_responses_websockets_v2_alone_turns_on_the_websocket_transport(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_cli(
        "exec", "--enable", "responses_websockets_v2",
        "-c", "model_provider=mock",
        "-c", f'model_providers.mock={{name="mock", base_url="{emulator.base_url}", '
        'env_key="MOCK_KEY", supports_websockets=true}',
        "hi", home=codex_home, cwd=repo, MOCK_KEY="sk-mock",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    (handshake,) = emulator.requests_of("ws_handshake")
    assert handshake.headers["openai-beta"] == "responses_websockets=2026-02-06"
    assert len(emulator.requests_of("ws_message")) == 1
    assert emulator.requests_of("http") == []


async def test_removed_flags_warn_and_are_not_listed(codex_home: Path, repo: Path) -> None:
    (codex_home / "config.toml").write_text(
        "[features]\nshell_snapshot = true\nremote_models = true\n"
    )
    result = await run_cli("features", "list", home=codex_home, cwd=repo)
    assert result.code == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()}
    removed = {spec.key for spec in FEATURES if spec.stage is Stage.REMOVED}
    assert {"shell_snapshot", "remote_models"} <= removed
    assert listed.isdisjoint(removed)
    assert {"shell_tool", "responses_websockets_v2"} <= listed
    for key in ("shell_snapshot", "remote_models"):
        assert f"feature `{key}` was removed" in result.stderr


async def test_no_beta_features_header_without_an_eligible_feature(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    # Only experimental-stage features are eligible for `x-codex-beta-features`; turning on
    # under-development and stable ones must not make the header appear.
    result = await run_cli(
        "exec", "--enable", "runtime_metrics", "--enable", "shell_tool",
        *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    (request,) = emulator.requests_of("http")
    assert "x-codex-beta-features" not in request.headers


async def test_features_list_warnings_keep_bracketed_table_names(
    codex_home: Path, repo: Path
) -> None:
    (codex_home / "config.toml").write_text("[shell_environment_policy]\nno_such_key = 1\n")
    result = await run_cli("features", "list", home=codex_home, cwd=repo)
    assert result.code == 0, result.stderr
    assert "[shell_environment_policy]" in result.stderr
