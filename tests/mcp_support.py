"""Helpers of the MCP tests: config entries for the test servers, processes, an HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_engine.config.loader import Config, load_config
from codex_engine.emulator import ResponsesEmulator
from tests import conftest
from tests.test_app_server import RawClient

STDIO_SERVER = Path(__file__).resolve().parent / "mcp_servers" / "stdio_server.py"


def toml_value(value: Any) -> str:
    return json.dumps(value)  # JSON strings, numbers, booleans and arrays are valid TOML


def stdio_entry(name: str, *args: str, **keys: Any) -> str:
    """A `[mcp_servers.NAME]` table running the test stdio server (extra keys as given)."""
    lines = [
        f"[mcp_servers.{name}]",
        f"command = {toml_value(sys.executable)}",
        f"args = {toml_value([str(STDIO_SERVER), name, *args])}",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def http_entry(name: str, url: str, **keys: Any) -> str:
    lines = [f"[mcp_servers.{name}]", f"url = {toml_value(url)}"]
    for key, value in keys.items():
        if isinstance(value, dict):
            pairs = ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {pairs} }}")
        else:
            lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def app_server(
    home: Path, tmp_path: Path, emulator: ResponsesEmulator
) -> AsyncIterator[RawClient]:
    """An initialized app-server in ``tmp_path/work``; on leaving, it must exit 0 and every
    message it sent must have followed the reference schema."""
    work = tmp_path / "work"
    work.mkdir()
    raw = await RawClient.start(home, work, emulator)
    try:
        await raw.initialize()
        yield raw
    finally:
        with contextlib.suppress(ProcessLookupError):
            assert await raw.close() == 0
    assert raw.schema_errors() == []


def emulator_flags(emulator: ResponsesEmulator) -> list[str]:
    return conftest.emulator_flags(emulator.base_url)


def mcp_config(
    home: Path, emulator: ResponsesEmulator, cwd: Path, entries: str, **extra: Any
) -> Config:
    """config.toml with `entries` under `home`, pointed at the emulator."""
    (home / "config.toml").write_text(entries)
    overrides: list[tuple[list[str], Any]] = [
        (["model"], conftest.TEST_MODEL),
        (["model_provider"], "emulator"),
        (["model_providers", "emulator", "base_url"], emulator.base_url),
        (["sandbox_mode"], extra.pop("sandbox_mode", "danger-full-access")),
        (["approval_policy"], extra.pop("approval_policy", "never")),
    ]
    overrides += [([key], value) for key, value in extra.items()]
    return load_config(codex_home=home, overrides=overrides, cwd=cwd, env={})


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def read_pid(path: Path) -> int:
    return int(path.read_text())


def function_outputs(emulator: ResponsesEmulator) -> dict[str, Any]:
    """call_id -> output, from every request the emulator saw."""
    found: dict[str, Any] = {}
    for request in emulator.requests_of("http"):
        for item in request.body["input"]:
            if item.get("type") == "function_call_output":
                found[item["call_id"]] = item["output"]
    return found


def tool_names(body: Mapping[str, Any]) -> list[str]:
    return [str(tool.get("name")) for tool in body.get("tools", [])]


@dataclass
class HttpServer:
    url: str
    headers_seen: list[dict[str, str]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def http_mcp_server(name: str, *, bearer: str | None = None) -> AsyncIterator[HttpServer]:
    """The test tools over streamable HTTP on 127.0.0.1 (port 0), in this event loop.

    With ``bearer``, requests without ``Authorization: Bearer <bearer>`` get 401.
    """
    import uvicorn

    from tests.mcp_servers.tools import build

    app = build(name).streamable_http_app()
    record = HttpServer(url="")

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            record.headers_seen.append(headers)
            if bearer is not None and headers.get("authorization") != f"Bearer {bearer}":
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    # Bound here, so the port is known before the server runs (connections wait in the backlog).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    record.url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield record
    finally:
        server.should_exit = True
        await task
        sock.close()


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def this_process_children() -> list[int]:
    return children_of(os.getpid())
