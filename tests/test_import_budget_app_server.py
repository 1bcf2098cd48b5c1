"""What ``codex-engine app-server`` imports up to its answers to ``initialize`` and ``model/list``:
only allowed modules (a check on *what*, never on time; bench/goals.py measures the time). A new
dependency on the path fails here until it is added to an allow-list below with the reason the
server needs it. Method families load on their first call (app_server/handlers/__init__.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env
from tests.import_budget_support import DRIVER, Budget, bare_interpreter_modules

#: Third-party packages the app-server loads before it answers ``initialize`` and ``model/list``,
#: each with the reason. (httpx, h11, tomlkit and the rest load with the families that use them:
#: sign-in, threads and turns, config writes.)
THIRD_PARTY: dict[str, str] = {
    "click": "the command line's parser (cli/main.py, cli/app_server_cmd.py)",
    "msgspec": "message Structs (protocol/app_server/), config (config/) and wire items",
    "typing_extensions": "imported by msgspec itself",
}

#: Our modules the server must not load before a client asks for them: other commands, the
#: emulator, MCP connections (no servers configured), the optional OTLP exporter, and what only
#: other method families use: the session engine and its client, sign-in, rollouts, threads.
OWN_NOT_ON_PATH = (
    "codex_engine.app_server.accounts",
    "codex_engine.app_server.handlers.accounts",
    "codex_engine.app_server.handlers.config",
    "codex_engine.app_server.handlers.threads",
    "codex_engine.app_server.handlers.turns",
    "codex_engine.app_server.history",
    "codex_engine.app_server.projector",
    "codex_engine.app_server.state",
    "codex_engine.auth.login_callback",
    "codex_engine.auth.manager",
    "codex_engine.client",
    "codex_engine.config.edit",
    "codex_engine.core",
    "codex_engine.transport",
    "codex_engine.emulator",
    "codex_engine.cli.exec_cmd",
    "codex_engine.cli.render_human",
    "codex_engine.cli.emulator_cmd",
    "codex_engine.cli.login_cmd",
    "codex_engine.cli.mcp_cmd",
    "codex_engine.mcp.connection",
    "codex_engine.telemetry.otlp_json",
)

#: Standard-library packages the path must not need (the rest of it is cheap or already loaded).
STDLIB_NOT_ON_PATH = ("sqlite3", "multiprocessing", "unittest", "doctest", "pydoc", "tkinter")

BUDGET = Budget(tuple(OWN_NOT_ON_PATH), tuple(STDLIB_NOT_ON_PATH), THIRD_PARTY)


def disallowed(modules: set[str], *, also: frozenset[str] = frozenset()) -> list[str]:
    return BUDGET.disallowed(modules, also=also)


def test_the_app_server_imports_only_allowed_modules_for_initialize_and_model_list(
    tmp_path: Path,
) -> None:
    home, out = tmp_path / "home", tmp_path / "modules.txt"
    home.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(out), "app-server"],
        cwd=tmp_path,
        env=cli_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    request = {
        "id": 1,
        "method": "initialize",
        "params": {"clientInfo": {"name": "t", "version": "1"}},
    }
    process.stdin.write(json.dumps(request).encode() + b"\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    for line in (b'{"method": "initialized"}', b'{"id": 2, "method": "model/list", "params": {}}'):
        process.stdin.write(line + b"\n")
    process.stdin.flush()
    models = json.loads(process.stdout.readline())
    # communicate() closes stdin: at end of input the server exits and the driver writes the list.
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "userAgent" in answer["result"]
    assert models["id"] == 2 and models["result"]["data"], models
    modules = set(out.read_text().split()) - bare_interpreter_modules()
    assert "codex_engine.app_server.server" in modules  # the server really ran in this process
    assert "httpx" not in modules and "codex_engine.core.session" not in modules
    assert disallowed(modules) == []


def test_the_allow_lists_catch_what_they_should() -> None:
    assert disallowed({"rich.console", "pygments", "websockets", "mcp.client"}) == [
        "mcp.client",
        "pygments",
        "rich.console",
        "websockets",
    ]
    assert disallowed({"codex_engine.emulator.server", "sqlite3", "codex_engine.cli.exec_cmd"}) == [
        "codex_engine.cli.exec_cmd",
        "codex_engine.emulator.server",
        "sqlite3",
    ]
    assert disallowed({"codex_engine.app_server.server", "json", "msgspec"}) == []
    assert disallowed({"pydantic", "pydantic_core"}) == ["pydantic", "pydantic_core"]
    assert disallowed({"httpx._client", "tomlkit", "codex_engine.core.session"}) == [
        "codex_engine.core.session",
        "httpx._client",
        "tomlkit",
    ]


def test_the_message_types_need_no_pydantic() -> None:
    # The protocol package in a fresh interpreter: its Structs decode params and encode results
    # without pydantic (whose import alone costs ~85 ms of the app-server's start-up).
    code = (
        "import sys\n"
        "import codex_engine.protocol.app_server as wire\n"
        "from codex_engine.protocol.app_server.params import decode_params\n"
        "params = decode_params(wire.ThreadStartParams, {'approvalPolicy': 'never'})\n"
        "assert params.approval_policy == 'never', params\n"
        "turn = wire.Turn(id='t', status='completed', items=[wire.ReasoningItem(id='r')])\n"
        "assert turn.to_wire()['items'][0]['type'] == 'reasoning'\n"
        "loaded = sorted(m for m in sys.modules if m.partition('.')[0].startswith('pydantic'))\n"
        "assert loaded == [], loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_httpcore_finds_sniffio_so_a_request_does_not_search_the_import_path() -> None:
    code = (
        "import asyncio, sys\n"
        "from httpcore._synchronization import current_async_library\n"
        "async def main():\n"
        "    assert current_async_library() == 'asyncio'\n"
        "asyncio.run(main())\n"
        "assert 'sniffio' in sys.modules\n"  # imported once, then a dictionary look-up
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
