"""Settings nothing reads warn and never fail (as 0.163, which names them and goes on): keys the
reference knows are "not supported by codex-engine", others are "unknown"; nested ones are named
by their dotted path."""

from __future__ import annotations

import json
from pathlib import Path

from codex_engine.config import load_config
from codex_engine.config.loader import ConfigProfile, ConfigToml
from codex_engine.config.unknown_keys import REFERENCE_TOP_LEVEL_KEYS, model_keys
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli
from tests.test_app_server import RawClient, start_thread

CONFIG = """\
model = "gpt-5.5"
bogus_top = 1
notify = ["say", "done"]

[tui]
animations = false

[profiles.fast]
model = "gpt-5.4"
prof_typo = 3
"""


def _home(tmp_path: Path, text: str) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(text)
    return home


def test_ignored_keys_are_named_by_kind_and_path(tmp_path: Path) -> None:
    home = _home(tmp_path, CONFIG)
    config = load_config(codex_home=home, cwd=tmp_path)
    path = home / "config.toml"
    assert config.feature_warnings == [
        f"{path}: settings not supported by codex-engine are ignored: `notify`, `tui`; "
        "remove them to silence this warning",
        f"{path}: unknown settings are ignored: `bogus_top`, `profiles.fast.prof_typo`; "
        "check their spelling or remove them",
    ]
    assert config.model == "gpt-5.5"  # everything else still applies


def test_a_clean_config_and_known_keys_give_no_warning(tmp_path: Path) -> None:
    home = _home(tmp_path, 'model = "gpt-5.5"\n[profiles.fast]\nmodel = "o3"\n')
    assert load_config(codex_home=home, cwd=tmp_path).feature_warnings == []


def test_every_key_codex_engine_reads_is_also_a_reference_key() -> None:
    # So "not supported" is never said of a key we read, and our list follows the reference's.
    # Two older names codex-engine still reads, which 0.163's schema no longer lists.
    legacy = {"base_instructions", "experimental_instructions_file"}
    assert model_keys(ConfigToml) <= REFERENCE_TOP_LEVEL_KEYS | legacy
    assert model_keys(ConfigProfile) <= model_keys(ConfigToml)


def test_many_ignored_keys_are_listed_with_a_count_of_the_rest(tmp_path: Path) -> None:
    home = _home(tmp_path, "".join(f"typo_{i:02} = 1\n" for i in range(15)))
    (warning,) = load_config(codex_home=home, cwd=tmp_path).feature_warnings
    assert "`typo_11`" in warning and "`typo_12`" not in warning and "and 3 more" in warning


def test_unknown_keys_in_a_profile_file_name_that_file(tmp_path: Path) -> None:
    home = _home(tmp_path, "")
    (home / "work.config.toml").write_text('model = "o3"\nwat = 1\n')
    (warning,) = load_config(codex_home=home, profile="work", cwd=tmp_path).feature_warnings
    assert warning.startswith(f"{home / 'work.config.toml'}: unknown settings are ignored: `wat`")


async def test_exec_warns_on_stderr_and_in_json_and_exits_0(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(CONFIG)
    emulator.enqueue(Reply.text("hi"), Reply.text("hi"))
    flags = ["--skip-git-repo-check", *emulator_flags(emulator.base_url)]
    human = await run_cli("exec", *flags, "hello", home=codex_home, cwd=tmp_path)
    assert human.code == 0, human.stderr
    assert "unknown settings are ignored: `bogus_top`, `profiles.fast.prof_typo`" in human.stderr
    assert "not supported by codex-engine are ignored: `notify`, `tui`" in human.stderr
    assert "bogus_top" not in human.stdout

    as_json = await run_cli("exec", "--json", *flags, "hello", home=codex_home, cwd=tmp_path)
    assert as_json.code == 0, as_json.stderr
    errors = [
        event["item"]["message"]
        for event in map(json.loads, as_json.stdout.splitlines())
        if event["type"] == "item.completed" and event["item"]["type"] == "error"
    ]
    assert any("`bogus_top`" in message for message in errors)


async def test_an_invalid_value_still_exits_2(codex_home: Path, tmp_path: Path) -> None:
    (codex_home / "config.toml").write_text(CONFIG + 'sandbox_mode = "everything"\n')
    run = await run_cli("exec", "--skip-git-repo-check", "hello", home=codex_home, cwd=tmp_path)
    assert run.code == 2
    assert run.stderr.startswith("error:") and "sandbox_mode" in run.stderr


async def test_the_app_server_sends_a_config_warning(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(CONFIG)
    client = await RawClient.start(codex_home, tmp_path, emulator)
    try:
        await client.initialize()
        await start_thread(client)
        warning = await client.wait_for(
            lambda m: m["method"] == "configWarning" and "bogus_top" in m["params"]["summary"]
        )
        assert "profiles.fast.prof_typo" in warning["params"]["summary"]
    finally:
        assert await client.close() == 0
    assert client.schema_errors() == []
