"""The ``start`` fixture the app-server test files share: app-servers over real pipes, each
initialized; at the end each must exit 0 and every message it sent must have matched the
reference schema."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.test_app_server import RawClient

__all__ = ["Start", "start"]

Start = Callable[..., Awaitable[RawClient]]


@pytest.fixture
async def start(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> AsyncIterator[Start]:
    """``await start(*config_flags)`` launches one more initialized app-server."""
    clients: list[RawClient] = []

    async def launch(*extra: str) -> RawClient:
        client = await RawClient.start(codex_home, tmp_path, emulator, *extra)
        clients.append(client)
        await client.initialize()
        return client

    yield launch
    for client in clients:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
        assert client.schema_errors() == []
