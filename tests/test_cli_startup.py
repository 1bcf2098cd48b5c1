"""The collector pauses while a command loads the engine and comes back on, with the start-up
objects frozen out of later collections (cli/startup.py)."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

from codex_engine.cli.startup import pause_collector, resume_collector
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import cli_env, emulator_flags

#: Runs the CLI in this interpreter; at exit prints whether the collector is on and how many
#: objects are frozen.
DRIVER = """
import atexit, gc, sys
atexit.register(lambda: print(f"gc enabled={gc.isenabled()} frozen={gc.get_freeze_count()}"))
sys.argv[0] = "codex-engine"
from codex_engine.cli.main import main
main()
"""


def test_resuming_turns_the_collector_on_and_freezes_what_exists() -> None:
    assert gc.isenabled()
    try:
        pause_collector()
        assert not gc.isenabled()
        resume_collector()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        resume_collector()  # already on: nothing more is frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.enable()


async def test_a_one_turn_exec_runs_its_turn_with_the_collector_on(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DRIVER,
        "exec",
        "--skip-git-repo-check",
        *emulator_flags(emulator.base_url),
        "hi",
        cwd=tmp_path,
        env=cli_env(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    last = out.decode().strip().splitlines()[-1]
    assert last.startswith("gc enabled=True frozen="), last
    assert int(last.rpartition("=")[2]) > 10_000  # the engine's modules, classes and functions
