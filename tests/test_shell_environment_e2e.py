"""What the model's `env` command sees, end to end: the CLI and the app-server as subprocesses
against the emulator, with canary variables in their environment."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import TEST_MODEL, run_cli
from tests.test_app_server import RawClient, start_thread, start_turn

# A name the default excludes catch, one only a custom `exclude` catches, and a harmless one.
KEY_NAME, KEY_VALUE = "CANARY_DEPLOY_KEY", "canary-deploy-key-93f1c2ab"
PASSWORD_NAME, PASSWORD_VALUE = "CANARY_DB_PASSWORD", "canary-db-password-55aa0e"
MARKER_NAME, MARKER_VALUE = "CANARY_PLAIN_MARKER", "plain-marker-visible-7d1"


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI and app-server subprocesses inherit the test process's environment (cli_env).
    monkeypatch.setenv(KEY_NAME, KEY_VALUE)
    monkeypatch.setenv(PASSWORD_NAME, PASSWORD_VALUE)
    monkeypatch.setenv(MARKER_NAME, MARKER_VALUE)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def tool_outputs(emulator: ResponsesEmulator) -> str:
    """Every command output the model was sent."""
    outputs: list[str] = []
    for request in emulator.requests_of("http"):
        for item in (request.body or {}).get("input", []):
            if isinstance(item, dict) and item.get("type") == "function_call_output":
                outputs.append(str(item.get("output")))
    return "\n".join(outputs)


def rollouts(home: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((home / "sessions").rglob("*.jsonl")))


async def run_env(emulator: ResponsesEmulator, home: Path, cwd: Path, *flags: str) -> Any:
    return await run_cli(
        "exec",
        "-s",
        "danger-full-access",
        "-c",
        f"model={TEST_MODEL}",
        "-c",
        "model_provider=emulator",
        "-c",
        f"model_providers.emulator.base_url={emulator.base_url}",
        *flags,
        "run `env`",
        home=home,
        cwd=cwd,
    )


async def test_by_default_commands_see_the_whole_environment_as_the_reference(
    canary_env: None, emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_env(emulator, codex_home, repo)
    assert result.code == 0, result.stderr
    seen = tool_outputs(emulator)
    # The reference 0.163 passes these through when no policy is set (measured).
    for value in (KEY_VALUE, PASSWORD_VALUE, MARKER_VALUE):
        assert value in seen
    assert "CODEX_THREAD_ID=" in seen


async def test_an_excluding_policy_keeps_secrets_from_the_model_output_and_rollout(
    canary_env: None, emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    (codex_home / "config.toml").write_text(
        '[shell_environment_policy]\nexclude = ["canary_db_pass*"]\n'
    )
    result = await run_env(
        emulator, codex_home, repo, "-c", "shell_environment_policy.ignore_default_excludes=false"
    )
    assert result.code == 0, result.stderr
    seen = tool_outputs(emulator)
    assert MARKER_VALUE in seen, "the command ran and printed its environment"
    record = rollouts(codex_home)
    assert MARKER_VALUE in record
    for secret in (KEY_VALUE, PASSWORD_VALUE):
        for where, text in [
            ("model", seen),
            ("stdout", result.stdout),
            ("stderr", result.stderr),
            ("rollout", record),
        ]:
            assert secret not in text, where


async def test_inherit_none_with_set_gives_exactly_the_set_variables(
    canary_env: None, emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    # `env` itself, not through `bash -lc`: a login shell would add variables of its own.
    emulator.enqueue(Reply.function_call("shell", {"command": ["env"]}), Reply.text("done"))
    result = await run_cli(
        "exec",
        "--disable",
        "unified_exec",  # an argv `shell` call: exec_command would add its own variables
        "-s",
        "danger-full-access",
        "-c",
        f"model={TEST_MODEL}",
        "-c",
        "model_provider=emulator",
        "-c",
        f"model_providers.emulator.base_url={emulator.base_url}",
        "-c",
        "shell_environment_policy.inherit=none",
        "-c",
        'shell_environment_policy.set={ONLY_THIS="x1"}',
        "print the environment",
        home=codex_home,
        cwd=repo,
    )
    assert result.code == 0, result.stderr
    seen = json.loads(tool_outputs(emulator))["output"]
    names = sorted(line.split("=", 1)[0] for line in seen.splitlines() if "=" in line)
    assert names == ["CODEX_THREAD_ID", "ONLY_THIS"], names


async def test_a_bad_policy_value_is_one_line_and_exit_2(codex_home: Path, repo: Path) -> None:
    result = await run_cli(
        "exec", "-c", "shell_environment_policy.inherit=some", "hello", home=codex_home, cwd=repo
    )
    assert result.code == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "`shell_environment_policy.inherit`" in lines[0] and "-c" in lines[0]


async def test_an_unknown_policy_key_is_a_warning_and_the_turn_runs(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_cli(
        "exec",
        "-c",
        f"model={TEST_MODEL}",
        "-c",
        "model_provider=emulator",
        "-c",
        f"model_providers.emulator.base_url={emulator.base_url}",
        "-c",
        "shell_environment_policy.inherits=core",
        "hello",
        home=codex_home,
        cwd=repo,
    )
    assert result.code == 0, result.stderr
    assert "unknown key `inherits` in [shell_environment_policy] (-c override)" in result.stderr


async def test_app_server_threads_apply_the_policy_from_their_config(
    canary_env: None, emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    client = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        await client.initialize()
        outputs: dict[str, str] = {}
        threads: dict[str, str] = {}
        for label, config in [
            ("default", None),
            ("strict", {"shell_environment_policy.ignore_default_excludes": False}),
        ]:
            params: dict[str, Any] = {"approvalPolicy": "never", "sandbox": "danger-full-access"}
            if config is not None:
                params["config"] = config
            thread_id = threads[label] = await start_thread(client, **params)
            turn_id = await start_turn(client, thread_id, "run `env`")
            turn = await client.turn_completed(turn_id)
            assert turn["status"] == "completed", turn
            command = next(
                m["params"]["item"]
                for m in client.of_turn(turn_id)
                if m["method"] == "item/completed"
                and m["params"]["item"]["type"] == "commandExecution"
            )
            outputs[label] = command["aggregatedOutput"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
    assert KEY_VALUE in outputs["default"] and MARKER_VALUE in outputs["default"]
    assert MARKER_VALUE in outputs["strict"]
    assert KEY_VALUE not in outputs["strict"]
    (strict_rollout,) = (codex_home / "sessions").rglob(f"*{threads['strict']}.jsonl")
    assert MARKER_VALUE in strict_rollout.read_text()
    assert KEY_VALUE not in strict_rollout.read_text()
    assert client.schema_errors() == []
