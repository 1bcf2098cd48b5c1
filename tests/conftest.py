"""Shared fixtures: a running emulator, an isolated CODEX_HOME, and a client pointed at both."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_engine.client.credentials import StaticCredentials
from codex_engine.client.model_client import ModelClient
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.emulator import ResponsesEmulator
from tests import canaries
from tests.canaries import CanaryRegistry

#: Fixtures shared by several test files (loaded once this module is, so they may import it).
pytest_plugins = ["tests.app_server_start"]


@pytest.fixture(autouse=True)
def secret_canaries(caplog: pytest.LogCaptureFixture) -> Iterator[CanaryRegistry]:
    """Fails the test if a registered credential shows up in its logs (see tests/canaries.py)."""
    registry = CanaryRegistry()
    canaries.activate(registry)
    try:
        yield registry
    finally:
        canaries.activate(None)
    leaks = registry.leaks([*caplog.get_records("setup"), *caplog.get_records("call")])
    assert not leaks, f"secrets leaked: {leaks}"


#: The measured reference facts (app-server schema, wire captures): `../shared/reference` next to
#: the checkout, or wherever CODEX_ENGINE_REFERENCE points.
REFERENCE_DIR = Path(
    os.environ.get("CODEX_ENGINE_REFERENCE")
    or Path(__file__).resolve().parents[2] / "shared" / "reference"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def reference_path(relative: str) -> Path | None:
    """`REFERENCE_DIR/relative`, or None when it is missing on a developer machine.

    In CI (`CI` set) a missing reference fails the test with the path and the fix: a check
    against the reference that is silently skipped there would never run anywhere.
    """
    path = REFERENCE_DIR / relative
    if path.exists():
        return path
    if in_ci():
        pytest.fail(
            f"the shared reference {path} is missing: check out the shared directory next to "
            "the repository or set CODEX_ENGINE_REFERENCE to the reference directory",
            pytrace=False,
        )
    return None


def require_reference(relative: str) -> Path:
    """`reference_path`, skipping (with the path as reason) when it is missing outside CI."""
    path = reference_path(relative)
    if path is None:
        pytest.skip(f"reference not found at {REFERENCE_DIR / relative} (CI would fail here)")
    return path


@pytest.fixture
async def emulator() -> AsyncIterator[ResponsesEmulator]:
    async with ResponsesEmulator() as emu:
        yield emu


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "codex-home"
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    yield home


class SleepRecorder:
    """Stands in for asyncio.sleep so retry delays are observed, not waited for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_provider(base_url: str, **fields: Any) -> ModelProviderInfo:
    return ModelProviderInfo(name="test", base_url=base_url, **fields)


def make_client(
    base_url: str,
    *,
    sleep: SleepRecorder | None = None,
    bearer: str | None = "sk-test-123",
    enable_websockets: bool = False,
    enable_preconnect: bool = True,
    env: dict[str, str] | None = None,
    **provider_fields: Any,
) -> ModelClient:
    kwargs: dict[str, Any] = {
        "enable_websockets": enable_websockets,
        "enable_preconnect": enable_preconnect,
    }
    if sleep is not None:
        kwargs["sleep"] = sleep
    registry = canaries.current()
    if registry is not None:
        registry.add(bearer)
    return ModelClient(
        provider=make_provider(base_url, **provider_fields),
        credentials=StaticCredentials(bearer),
        thread_id="01a20f91-ab8c-71e1-b849-551d55bec741",
        env=env or {},
        **kwargs,
    )


#: The model the suite's scripted conversations with the emulator are written for (HTTP, our
#: own catalog entry); the helpers pointing a process at the emulator select it explicitly, so
#: a test of the default model (``gpt-6.1-sol``, which prefers WebSockets) says so.
TEST_MODEL = "gpt-5.1-codex"


def emulator_flags(url: str, *extra: str) -> list[str]:
    """`-c` flags pointing the CLI at the emulator at ``url`` with :data:`TEST_MODEL` (``-m``
    still wins); ``extra`` are further settings of its provider table
    (``"stream_max_retries=0"``)."""
    flags = ["-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator"]
    flags += ["-c", f"model_providers.emulator.base_url={url}"]
    for setting in extra:
        flags += ["-c", f"model_providers.emulator.{setting}"]
    return flags


def cli_env(codex_home: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: isolated home, no inherited keys."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_KEY") and key != "CODEX_HOME"
    }
    env["CODEX_HOME"] = str(codex_home)
    env.update(extra)
    return env


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


async def run_cli(*args: str, home: Path, cwd: Path, stdin: str | None = None, **env: str) -> Run:
    """`python -m codex_engine ARGS` with an isolated CODEX_HOME (the emulator keeps serving).

    Credential variables in ``env`` become secret canaries; the run's output is scanned for
    every canary when the test ends.
    """
    canaries.register_env(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_engine",
        *args,
        cwd=cwd,
        env=cli_env(home, **env),
        # No stdin given: /dev/null, not an open pipe, since `exec PROMPT` reads piped stdin as
        # extra context (as the reference does) and an open pipe would never end.
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode() if stdin is not None else None)
    assert process.returncode is not None
    run = Run(process.returncode, out.decode(), err.decode())
    label = " ".join(args)[:60]
    canaries.watch(f"`{label}` stdout", run.stdout)
    canaries.watch(f"`{label}` stderr", run.stderr)
    return run
