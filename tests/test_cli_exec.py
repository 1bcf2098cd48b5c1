"""``codex-engine exec`` and friends as a user runs them: a subprocess against the emulator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.conftest import Run, emulator_flags, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


codex = run_cli


def assert_one_line_error(result: Run, *needles: str) -> None:
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


async def test_exec_streams_the_answer_to_stdout_and_a_summary_to_stderr(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        "exec", *emulator_flags(emulator.base_url), "tell me a story", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    assert "You said: tell me a story" in result.stdout
    assert "turn completed" in result.stderr
    assert "1 request" in result.stderr and "tokens" in result.stderr


async def test_exec_warns_once_about_an_unknown_model_and_names_it_in_the_header(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    flags = [*emulator_flags(emulator.base_url), "-m", "no-such-model"]
    result = await codex("exec", *flags, "hi", home=codex_home, cwd=repo)
    assert result.code == 0, result.stderr
    assert result.stderr.count("Unknown model 'no-such-model'") == 1
    assert "model no-such-model" in result.stderr
    assert emulator.requests_of("http")[0].body["model"] == "no-such-model"


async def test_exec_runs_a_tool_and_prints_the_final_answer(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        "exec",
        "-s",
        "danger-full-access",
        *emulator_flags(emulator.base_url),
        "run `echo from-the-shell`",
        home=codex_home,
        cwd=repo,
    )
    assert result.code == 0, result.stderr
    assert "from-the-shell" in result.stdout
    assert "$ echo from-the-shell" in result.stderr
    assert len(emulator.requests_of("http")) == 2


async def test_exec_json_prints_one_parseable_event_per_line(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        "exec",
        "--json",
        "-s",
        "danger-full-access",
        *emulator_flags(emulator.base_url),
        "run `echo json-mode`",
        home=codex_home,
        cwd=repo,
    )
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "thread.started" and kinds[1] == "turn.started"
    # Only the reference's event types: the runtime summary rides in turn.completed.
    assert kinds[-1] == "turn.completed"
    assert set(kinds) <= {"thread.started", "turn.started", "item.started", "item.completed"} | {
        "turn.completed"
    }
    runtime = events[-1]["runtime"]
    # the runtime summary agrees with what the server saw
    assert runtime["api_calls"]["count"] == len(emulator.requests_of("http")) == 2
    assert runtime["tool_calls"]["count"] == 1
    # every SSE event received counts, also those the client skips (response.in_progress...)
    streamed = sum(r.events_sent for r in emulator.requests_of("http"))
    assert runtime["stream_events"]["count"] == streamed
    # one counter: the turn's summary and the runtime summary agree
    assert events[-1]["summary"]["stream_events"] == streamed > 0
    sent = sum(r.raw_size or 0 for r in emulator.requests_of("http"))
    assert runtime["request_bytes"]["before_compression"] == sent
    assert runtime["request_bytes"]["after_compression"] == sent  # API-style provider: no zstd
    commands = [e["item"] for e in events if e["type"] == "item.completed"]
    assert commands[0]["type"] == "command_execution" and commands[0]["exit_code"] == 0
    assert commands[-1]["type"] == "agent_message" and "json-mode" in commands[-1]["text"]
    usage = events[-1]["usage"]
    assert usage["input_tokens"] > 0
    assert set(usage) == {
        "input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
        "reasoning_output_tokens",
    }  # fmt: skip
    assert events[-1]["summary"]["requests"] == 2


async def test_exec_reads_the_prompt_from_stdin(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        "exec",
        *emulator_flags(emulator.base_url),
        "-",
        home=codex_home,
        cwd=repo,
        stdin="piped prompt text",
    )
    assert result.code == 0, result.stderr
    assert "piped prompt text" in result.stdout


async def test_global_flags_before_the_subcommand_apply(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        *emulator_flags(emulator.base_url), "exec", "-m", "gpt-5.1-codex-mini", "hi",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert emulator.requests_of("http")[0].body["model"] == "gpt-5.1-codex-mini"


async def test_malformed_config_file_is_one_line_naming_file_and_line(
    codex_home: Path, repo: Path
) -> None:
    (codex_home / "config.toml").write_text('model = "gpt-5.1-codex"\nmodel_provider = \n')
    result = await codex("exec", "hi", home=codex_home, cwd=repo)
    assert result.code == 2
    assert_one_line_error(result, "config.toml", ":2")


async def test_wrong_type_in_config_names_the_key_and_the_fix(codex_home: Path, repo: Path) -> None:
    (codex_home / "config.toml").write_text(
        '[model_providers.mock]\nname = "mock"\nrequest_max_retries = "five"\n'
    )
    result = await codex("exec", "hi", home=codex_home, cwd=repo)
    assert result.code == 2
    assert_one_line_error(result, "model_providers.mock.request_max_retries", "config.toml")


async def test_unknown_provider_is_a_config_error(codex_home: Path, repo: Path) -> None:
    result = await codex("exec", "-c", "model_provider=nope", "hi", home=codex_home, cwd=repo)
    assert result.code == 2
    assert_one_line_error(result, "nope")


async def test_missing_api_key_is_one_clear_line(codex_home: Path, repo: Path) -> None:
    (codex_home / "config.toml").write_text(
        'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "MOCK_KEY"\n'
    )
    result = await codex("exec", "hi", home=codex_home, cwd=repo)
    assert result.code == 1
    assert_one_line_error(result, "MOCK_KEY")


async def test_connection_refused_is_one_clear_line(codex_home: Path, repo: Path) -> None:
    result = await codex(
        "exec",
        *emulator_flags("http://127.0.0.1:9/v1"),
        "-c",
        "model_providers.emulator.request_max_retries=0",
        "hi",
        home=codex_home,
        cwd=repo,
    )
    assert result.code == 1
    assert_one_line_error(result, "could not connect", "127.0.0.1:9")


async def test_usage_limit_is_reported_with_its_reset_time(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    from codex_engine.emulator import Reply

    emulator.enqueue(
        Reply.status(
            429,
            body={
                "error": {
                    "type": "usage_limit_reached",
                    "message": "limit",
                    "plan_type": "plus",
                    "resets_at": 1_900_000_000,
                }
            },
        )
    )
    result = await codex(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=repo
    )
    assert result.code == 1
    assert_one_line_error(result, "usage limit")


async def test_outside_a_git_repo_needs_the_skip_flag(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    refused = await codex(
        "exec", *emulator_flags(emulator.base_url), "hi", home=codex_home, cwd=plain
    )
    assert refused.code == 1
    assert_one_line_error(refused, "--skip-git-repo-check")
    allowed = await codex(
        "exec", "--skip-git-repo-check", *emulator_flags(emulator.base_url), "hi",
        home=codex_home, cwd=plain,
    )  # fmt: skip
    assert allowed.code == 0, allowed.stderr


async def test_features_list_shows_stage_and_effective_value(codex_home: Path, repo: Path) -> None:
    result = await codex(
        "--enable", "responses_websockets", "features", "list", home=codex_home, cwd=repo
    )
    assert result.code == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert rows["responses_websockets"][-1] == "true"
    assert rows["enable_request_compression"][-1] == "true"
    assert "under" in " ".join(rows["responses_websockets"][:-1]).lower()


async def test_exec_over_websockets_adopts_the_handshake_started_at_launch(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await codex(
        "exec",
        "--json",
        "-s",
        "danger-full-access",
        "--enable",
        "responses_websockets",
        "-c",
        "model_provider=mock",
        "-c",
        f'model_providers.mock={{name="mock", base_url="{emulator.base_url}", '
        'env_key="MOCK_KEY", supports_websockets=true}',
        "run `echo over-ws`",
        home=codex_home,
        cwd=repo,
        MOCK_KEY="sk-mock",
    )
    assert result.code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    thread_id = next(e["thread_id"] for e in lines if e["type"] == "thread.started")
    (handshake,) = emulator.requests_of("ws_handshake")
    assert handshake.headers["session-id"] == thread_id
    assert handshake.headers["authorization"] == "Bearer sk-mock"
    messages = emulator.requests_of("ws_message")
    assert len(messages) == 2 and not emulator.requests_of("http")
    assert {m.connection_id for m in messages} == {handshake.connection_id}
    assert "over-ws" in result.stdout
    assert lines[-1]["type"] == "turn.completed"
    assert lines[-1]["runtime"]["preconnect_adopted"] is True
