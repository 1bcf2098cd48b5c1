"""The test harness fails fast and says why: a dead app-server, a missing reference directory."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests import conftest
from tests.test_app_server import RawClient, ServerGone

# Far below pytest's 120 s: a hang would fail this instead of passing slowly.
FAST_S = 15.0


async def dying_server(code: int, stderr: str) -> RawClient:
    """A "server" that writes to stderr and exits at once, without reading a request."""
    script = f"import sys; sys.stderr.write({stderr!r}); sys.exit({code})"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return RawClient(process)


async def test_a_pending_call_fails_when_the_server_exits_and_shows_its_stderr() -> None:
    client = await dying_server(3, "fatal: cannot load config.toml\n")
    async with asyncio.timeout(FAST_S):
        with pytest.raises(ServerGone) as caught:
            await client.call("initialize", {"clientInfo": {"name": "t", "version": "1"}})
    message = str(caught.value)
    assert "exit code 3" in message
    assert "fatal: cannot load config.toml" in message


async def test_waiting_for_a_notification_from_a_dead_server_fails_with_its_stderr() -> None:
    client = await dying_server(1, "boom\n")
    async with asyncio.timeout(FAST_S):
        with pytest.raises(ServerGone, match="boom"):
            await client.wait_for(lambda m: m["method"] == "turn/completed")


async def test_a_call_after_the_server_is_gone_fails_at_once() -> None:
    client = await dying_server(0, "")
    await client.process.wait()
    await client._reader  # the client has seen the end of the output
    async with asyncio.timeout(FAST_S):
        with pytest.raises(ServerGone, match=r"exit code 0\); stderr:\n\(nothing\)"):
            await client.result("initialize")


async def test_the_app_server_dying_at_start_up_fails_the_first_call(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # The last --listen wins: a scheme the server refuses makes it exit before reading stdin.
    client = await RawClient.start(
        codex_home, tmp_path, emulator, server_args=("--listen", "bogus://")
    )
    async with asyncio.timeout(FAST_S):
        with pytest.raises(ServerGone) as caught:
            await client.initialize()
    assert "bogus://" in str(caught.value)
    assert client.process.returncode not in (0, None)


def test_a_missing_reference_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(conftest, "REFERENCE_DIR", tmp_path / "no-reference")
    monkeypatch.delenv("CI", raising=False)
    assert conftest.reference_path("app-server-schema") is None
    with pytest.raises(pytest.skip.Exception, match="CI would fail here"):
        conftest.require_reference("app-server-schema")

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as caught:
        conftest.require_reference("wire-captures/sse-turn-with-tool-call.json")
    assert str(tmp_path / "no-reference" / "wire-captures") in str(caught.value)
    assert "CODEX_ENGINE_REFERENCE" in str(caught.value)


def test_a_present_reference_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "app-server-schema").mkdir()
    monkeypatch.setattr(conftest, "REFERENCE_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert conftest.require_reference("app-server-schema") == tmp_path / "app-server-schema"
