"""What a one-turn ``codex-engine exec`` imports: only allowed modules (a check on *what*, never on
time; bench/exec_imports.py measures the time). A new dependency on the path fails here until it
is added to an allow-list below with the reason the path needs it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_engine.config import catalog
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import cli_env, emulator_flags
from tests.import_budget_support import DRIVER, Budget, bare_interpreter_modules

#: Third-party packages a one-turn exec (HTTP/SSE) truly needs, each with the reason.
THIRD_PARTY: dict[str, str] = {
    "click": "the command line's parser (cli/main.py, cli/exec_cmd.py)",
    "typing_extensions": "imported by msgspec itself",
    "msgspec": "Structs: config, core value types and records (cheaper than dataclasses)",
    "httpx": "the HTTP client of transport/http.py (the Responses request)",
    "httpcore": "httpx's connection layer",
    "h11": "httpcore's HTTP/1.1 parser",
    "anyio": "httpcore's async backend",
    "sniffio": "anyio/httpx detect the running event loop with it",
    "idna": "httpx normalises host names with it",
    "certifi": "httpx's default CA bundle for the TLS context",
    # protocol/compression.py imports it only to compress, but httpx imports it at start-up
    # whenever it is installed, to decode (and advertise) zstd responses.
    "zstandard": "httpx's optional zstd response decoder",
}

#: Standard-library packages the path must not need (the rest of the standard library is allowed:
#: its modules are cheap and mostly already loaded by click, asyncio or httpx).
STDLIB_NOT_ON_PATH = {
    "sqlite3",  # the rollout index is JSONL, never a database
    "multiprocessing",
    "unittest",
    "doctest",
    "pydoc",
    "tkinter",
    "argparse",  # click parses the command line
    "http.server",
    "xmlrpc",
    "ctypes",
    # pydantic imports it to discover plugins; the CLI stands in a loader that finds none
    # (cli/__init__.py). It brings email, zipfile and csv along.
    "importlib.metadata",
    # The catalog reads its package data by path: importlib.resources' readers bring zipfile.
    "zipfile",
    # The context blocks escape their XML themselves (core/xml_escape.py), without xml.sax.
    "xml",
}

#: Our modules a one-turn exec must not load: other commands, the emulator, sign-in (the
#: emulator's provider takes no OpenAI credentials), MCP connections (no servers configured), the
#: optional OTLP exporter, the rollout reader and index (a new session writes its rollout and
#: reads none) and reviews. (The ``websockets`` library is kept off by the third-party list: this
#: turn goes over HTTP/SSE.)
OWN_NOT_ON_PATH = (
    "codex_engine.auth",
    "codex_engine.core.rollout.index",
    "codex_engine.core.rollout.reader",
    "codex_engine.core.review",
    "codex_engine.core.review_turn",
    "codex_engine.app_server",
    "codex_engine.emulator",
    "codex_engine.cli.app_server_cmd",
    "codex_engine.cli.emulator_cmd",
    "codex_engine.cli.login_cmd",
    "codex_engine.cli.mcp_cmd",
    "codex_engine.auth.login_callback",
    "codex_engine.auth.device_code",
    "codex_engine.mcp.connection",
    "codex_engine.telemetry.otlp_json",
)


async def exec_modules(tmp_path: Path, *args: str, home: Path, **env: str) -> set[str]:
    # asyncio's subprocess, not subprocess.run: the emulator answers on this test's event loop
    out = tmp_path / "modules.txt"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DRIVER,
        str(out),
        "exec",
        *args,
        cwd=tmp_path,
        env=cli_env(home, **env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return set(out.read_text().split()) - bare_interpreter_modules()


BUDGET = Budget(tuple(OWN_NOT_ON_PATH), tuple(STDLIB_NOT_ON_PATH), THIRD_PARTY)


def disallowed(modules: set[str], *, also: frozenset[str] = frozenset()) -> list[str]:
    return BUDGET.disallowed(modules, also=also)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


async def test_a_one_turn_exec_imports_only_allowed_modules(
    emulator: ResponsesEmulator, tmp_path: Path, home: Path
) -> None:
    modules = await exec_modules(
        tmp_path, "--skip-git-repo-check", *emulator_flags(emulator.base_url), "hi", home=home
    )
    assert "codex_engine.core.session" in modules  # the turn really ran in this interpreter
    assert len(emulator.requests_of("http")) == 1
    assert disallowed(modules) == []


async def test_a_one_turn_exec_over_websocket_adds_only_the_websockets_library(
    emulator: ResponsesEmulator, tmp_path: Path, home: Path
) -> None:
    provider = (
        f'model_providers.mock={{name="mock", base_url="{emulator.base_url}", '
        'env_key="MOCK_KEY", supports_websockets=true}'
    )
    modules = await exec_modules(
        tmp_path,
        "--skip-git-repo-check",
        "--enable",
        "responses_websockets",
        "-c",
        "model_provider=mock",
        "-c",
        provider,
        "hi",
        home=home,
        MOCK_KEY="sk-mock",
    )
    assert len(emulator.requests_of("ws_message")) == 1 and not emulator.requests_of("http")
    assert "websockets" in modules
    # The WebSocket transport's library, and nothing else the HTTP turn did not need
    # (websockets/version.py imports importlib.metadata, with its zipfile, unused in a release,
    # unconditionally).
    also = frozenset({"websockets", "importlib.metadata", "zipfile"})
    assert disallowed(modules, also=also) == []


def test_the_allow_lists_catch_what_they_should() -> None:
    assert disallowed({"rich.console", "websockets", "pygments"}) == [
        "pygments",
        "rich.console",
        "websockets",
    ]
    assert disallowed({"codex_engine.app_server.server", "sqlite3"}) == [
        "codex_engine.app_server.server",
        "sqlite3",
    ]
    assert disallowed({"codex_engine.auth.manager", "codex_engine.core.rollout.reader"}) == [
        "codex_engine.auth.manager",
        "codex_engine.core.rollout.reader",
    ]
    assert disallowed({"codex_engine.core.session", "json", "httpx._client"}) == []


def test_a_model_lookup_validates_only_its_own_catalog_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[str] = []
    real = catalog.ModelInfo.from_dict

    def spy(entry: Any) -> catalog.ModelInfo:
        validated.append(entry["slug"])
        return real(entry)

    catalog._bundled_one.cache_clear()
    monkeypatch.setattr(catalog.ModelInfo, "from_dict", spy)
    try:
        info, warning = catalog.find_model_info("gpt-5.1-codex")
        unknown, unknown_warning = catalog.find_model_info("no-such-model")
    finally:
        catalog._bundled_one.cache_clear()
    assert (info.slug, warning) == ("gpt-5.1-codex", None)
    assert unknown.used_fallback_model_metadata and unknown_warning
    assert validated == ["gpt-5.1-codex"]


def test_httpx_cli_stays_callable_though_not_imported_by_the_cli(tmp_path: Path) -> None:
    code = (
        "import sys, codex_engine.cli, httpx\n"
        "assert 'rich' not in sys.modules and 'pygments' not in sys.modules\n"
        "httpx.main(['--help'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
