"""The public surface: the README's library example works as written (against the emulator),
one table in ``codex_engine/__init__.py`` says what is exported, and everything shown is."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import codex_engine
from codex_engine import AgentMessageDelta, TurnCompleted, load_config, open_session
from codex_engine.core.events import TurnEvent
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import TEST_MODEL


def test_every_exported_name_exists() -> None:
    for name in codex_engine.__all__:
        assert hasattr(codex_engine, name), name


async def test_library_turn_as_in_the_readme(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    config = load_config(
        overrides=[
            (["model"], TEST_MODEL),
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
        ],
        cwd=tmp_path,
    )
    text = ""
    completed = None
    async with open_session(config) as session:
        async for event in session.run_turn("hello library"):
            if isinstance(event, AgentMessageDelta):
                text += event.delta
            elif isinstance(event, TurnCompleted):
                completed = event
    assert "hello library" in text
    assert completed is not None and completed.summary.requests == 1


# --- The surface is one table -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "scripts" / "gen_exports.py"
INIT = ROOT / "src" / "codex_engine" / "__init__.py"


def _generator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_generated_imports_and_all_match_the_table() -> None:
    run = _generator("--check")
    assert run.returncode == 0, run.stderr


def test_a_stale_generated_block_is_caught_and_rewritten(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    source = INIT.read_text(encoding="utf-8")
    table_start = "_EXPORTS: dict[str, str] = {\n"
    assert table_start in source
    init.write_text(
        source.replace(table_start, table_start + '    "LateError": "codex_engine.errors",\n'),
        encoding="utf-8",
    )

    stale = _generator("--check", "--file", init)
    assert stale.returncode == 1
    assert "out of date" in stale.stderr and "run scripts/gen_exports.py" in stale.stderr
    assert "Traceback" not in stale.stderr

    assert _generator("--file", init).returncode == 0
    rewritten = init.read_text(encoding="utf-8")
    assert "    from codex_engine.errors import LateError as LateError\n" in rewritten
    assert '    "LateError",\n' in rewritten
    assert _generator("--check", "--file", init).returncode == 0


def test_a_name_listed_twice_in_the_table_is_refused(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    source = INIT.read_text(encoding="utf-8")
    table_start = "_EXPORTS: dict[str, str] = {\n"
    init.write_text(
        source.replace(table_start, table_start + '    "Session": "codex_engine.errors",\n'),
        encoding="utf-8",
    )
    run = _generator("--file", init)
    assert run.returncode != 0
    assert "_EXPORTS names Session more than once" in run.stderr
    assert init.read_text(encoding="utf-8") == source.replace(
        table_start, table_start + '    "Session": "codex_engine.errors",\n'
    )


def test_all_is_exactly_the_table() -> None:
    assert sorted(codex_engine.__all__) == sorted([*codex_engine._EXPORTS, "__version__"])
    assert dir(codex_engine) == sorted(codex_engine.__all__)


@pytest.mark.parametrize("name", sorted(codex_engine._EXPORTS))
def test_each_name_loads_from_the_module_the_table_names(name: str) -> None:
    module = importlib.import_module(codex_engine._EXPORTS[name])
    assert getattr(codex_engine, name) is getattr(module, name)


def test_star_import_gives_the_whole_surface() -> None:
    namespace: dict[str, object] = {}
    exec("from codex_engine import *", namespace)
    assert set(codex_engine.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        _ = codex_engine.NoSuchThing  # type: ignore[attr-defined]


def test_importing_the_package_does_not_load_the_engine() -> None:
    probe = (
        "import sys, json, codex_engine\n"
        "watched = ['codex_engine.core.session', 'codex_engine.client.model_client', 'httpx']\n"
        "before = [m for m in watched if m in sys.modules]\n"
        "codex_engine.Session\n"
        "after = [m for m in watched if m in sys.modules]\n"
        "print(json.dumps([before, after]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = json.loads(run.stdout)
    assert before == []
    # ... while the first use of a name does load it (so the probe above can see a load).
    assert "codex_engine.core.session" in after


# --- Everything shown is exported ----------------------------------------------------------------


def test_every_turn_event_is_exported() -> None:
    members = get_args(TurnEvent)
    assert len(members) > 10  # the union itself, not something that wraps it
    for event in members:
        assert event.__name__ in codex_engine.__all__, event.__name__
        assert getattr(codex_engine, event.__name__) is event, event.__name__


#: Backticked names in the README that name a package object deliberately not exported from the
#: root, and why.
NOT_AT_THE_ROOT = {
    "ResponsesEmulator": "the emulator is the `emulator` extra's own package (aiohttp); at the "
    "root, `from codex_engine import *` would need the extra",
}


def _package_objects() -> set[str]:
    """Public names of the package's modules: their ``__all__`` and the classes and functions
    they define."""
    names: set[str] = set()
    for info in pkgutil.walk_packages(codex_engine.__path__, "codex_engine."):
        if info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        names.update(getattr(module, "__all__", ()))
        for name, value in vars(module).items():
            if name.startswith("_"):
                continue
            if (inspect.isclass(value) or inspect.isfunction(value)) and (
                value.__module__ == info.name
            ):
                names.add(name)
    return names


def _readme_names() -> tuple[set[str], set[str]]:
    """(names the README's Python examples import ``from codex_engine``, names it shows that may
    be package objects: ``codex_engine.X``, or in backticks a ``CamelCase`` name or a call
    ``name(...)``; a bare lowercase word in backticks is a config key, a command or a method)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    imported: set[str] = set()
    shown: set[str] = set(re.findall(r"\bcodex_engine\.([A-Za-z_]\w*)", readme))
    for block in re.findall(r"^```python\n(.*?)^```", readme, flags=re.M | re.S):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and node.module == "codex_engine":
                imported.update(alias.name for alias in node.names)
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.M | re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        match = re.fullmatch(r"(?:await )?([A-Za-z_]\w*)(\(.*\))?", span.strip())
        if match and (match.group(2) or re.fullmatch(r"[A-Z]\w*[a-z]\w*", match.group(1))):
            shown.add(match.group(1))
    return imported, shown


def test_every_name_the_readme_shows_is_exported() -> None:
    imported, shown = _readme_names()
    submodules = {info.name for info in pkgutil.iter_modules(codex_engine.__path__)}
    package_objects = _package_objects()
    # The extraction still sees the README's example and its prose.
    assert {"load_config", "open_session"} <= imported
    assert {"resume_session", "fork_session", "CodexError"} <= shown

    for name in sorted(imported):
        assert name in codex_engine.__all__, f"the README imports {name} from codex_engine"
    for name in sorted(shown - submodules):
        if name in NOT_AT_THE_ROOT or name not in package_objects | set(codex_engine.__all__):
            continue
        assert name in codex_engine.__all__, (
            f"the README shows `{name}`: add it to _EXPORTS in codex_engine/__init__.py"
        )
