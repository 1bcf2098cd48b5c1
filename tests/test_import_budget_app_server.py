"""What ``codex-engine app-server`` imports up to its answer to ``initialize``: only allowed modules
(a check on *what*, never on time; bench/goals.py measures the time). A new dependency on the
path fails here until it is added to an allow-list below with the reason the server needs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env
from tests.import_budget_support import DRIVER, Budget, bare_interpreter_modules

#: Third-party packages the app-server loads before it answers ``initialize``, each with the reason.
THIRD_PARTY: dict[str, str] = {
    "click": "the command line's parser (cli/main.py, cli/app_server_cmd.py)",
    "pydantic": "the app-server's message models (protocol/app_server/) and config models",
    "pydantic_core": "pydantic's validator core",
    "annotated_types": "imported by pydantic itself",
    "typing_extensions": "imported by pydantic itself",
    "typing_inspection": "imported by pydantic itself",
    "httpx": "sign-in and the Responses client, imported with the handlers (accounts, turns)",
    "h11": "the browser sign-in's callback server (auth/login_callback.py), also httpx's parser",
    "idna": "httpx normalises host names with it",
    "tomlkit": "config/batchWrite and value/write keep config.toml's comments (config/edit)",
    # httpx probes these optional response decoders at import; each is used only when installed.
    "brotli": "httpx's optional brotli decoder (probed at import)",
    "brotlicffi": "httpx's optional brotli decoder (probed at import)",
    "zstandard": "httpx's optional zstd decoder (probed at import)",
    "sniffio": "httpcore asks it which event loop runs (a failed import would search per request)",
    "msgspec": "JSON-RPC messages are Structs, each encoded once (protocol/jsonrpc.py)",
}

#: Our modules the server must not load before a client asks for them: other commands, the
#: emulator, MCP connections (no servers configured) and the optional OTLP exporter.
OWN_NOT_ON_PATH = (
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


def test_the_app_server_imports_only_allowed_modules_before_initialize(tmp_path: Path) -> None:
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
    # communicate() closes stdin: at end of input the server exits and the driver writes the list.
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "userAgent" in answer["result"]
    modules = set(out.read_text().split()) - bare_interpreter_modules()
    assert "codex_engine.app_server.server" in modules  # the server really ran in this process
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
    assert disallowed({"codex_engine.app_server.server", "json", "httpx._client", "tomlkit"}) == []


def test_the_message_models_are_built_on_first_use_not_at_import() -> None:
    code = (
        "import pydantic, codex_engine.protocol.app_server as wire\n"
        "models = [v for v in vars(wire).values()\n"
        "          if isinstance(v, type) and issubclass(v, pydantic.BaseModel)]\n"
        "assert len(models) > 100, len(models)\n"
        "built = [m.__name__ for m in models if m.__pydantic_complete__]\n"
        "assert built == [], built\n"
        "params = wire.ThreadStartParams.model_validate({'approvalPolicy': 'never'})\n"
        "assert params.approval_policy == 'never'\n"
        "assert wire.ThreadStartParams.__pydantic_complete__\n"
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
