"""Optional dependencies: what works without an extra, and the one line when one is needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

_WITHOUT_AIOHTTP = (
    "import sys\n"
    "sys.modules['aiohttp'] = None  # as if the `emulator` extra were not installed\n"
    "from codex_engine.cli.main import main\n"
    "main()\n"
)


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_AIOHTTP, *args],
        cwd=tmp_path,
        env=cli_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_emulator_command_without_its_extra_says_what_to_install(tmp_path: Path) -> None:
    run = _run(tmp_path, "emulator", "--port", "0")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "codex-engine[emulator]" in lines[0]


def test_the_engine_never_imports_aiohttp(tmp_path: Path) -> None:
    # exec, the app-server and sign-in work without the emulator extra: no module outside
    # the emulator imports aiohttp.
    run = _run(tmp_path, "features", "list")
    assert run.returncode == 0, run.stderr
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib, pathlib, sys\n"
            "import codex_engine\n"
            "root = pathlib.Path(codex_engine.__file__).parent\n"
            "for path in sorted(root.rglob('*.py')):\n"
            "    parts = path.relative_to(root).with_suffix('').parts\n"
            "    if parts[0] in ('emulator', '__main__'):\n"
            "        continue\n"
            "    name = '.'.join(('codex_engine',) + parts).removesuffix('.__init__')\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"
