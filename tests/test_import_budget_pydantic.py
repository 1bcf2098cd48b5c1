"""``codex-engine exec`` must not import pydantic (issue 16): the wire items, stream events and
the client's stream path are msgspec Structs; config/ moves off pydantic on its own branch."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

from codex_engine.emulator import ResponsesEmulator
from tests.conftest import emulator_flags
from tests.test_import_budget import exec_modules

PYDANTIC = ("pydantic", "pydantic_core")

#: The modules that decode, hold and encode the model's wire traffic (protocol/ and the client's
#: stream path; client/credentials and model_client reach config/, which the second test covers).
WIRE_MODULES = (
    "codex_engine.protocol.items",
    "codex_engine.protocol.events",
    "codex_engine.protocol.rate_limits",
    "codex_engine.protocol.sse",
    "codex_engine.protocol.request",
    "codex_engine.transport.http",
    "codex_engine.transport.websocket",
    "codex_engine.client.attempts",
    "codex_engine.client.events",
    "codex_engine.client.replay",
    "codex_engine.client.turn_session",
)

# Imports them in a fresh interpreter and uses them (a lazy import would show too), then prints
# the pydantic modules loaded.
_DRIVER = f"""
import json, sys
for name in {WIRE_MODULES!r}:
    __import__(name)
from codex_engine.protocol.events import decode_stream_message
from codex_engine.protocol.items import item_to_json, parse_item
from codex_engine.protocol.rate_limits import parse_rate_limit_headers
item = parse_item({{"type": "message", "role": "user", "content": [], "phase": "x"}})
assert item_to_json(item)["phase"] == "x"
assert decode_stream_message('{{"type": "response.output_text.delta", "delta": "d"}}')[1]
assert parse_rate_limit_headers({{"x-codex-primary-used-percent": "5"}})
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {PYDANTIC!r})))
"""


def test_the_wire_types_and_the_stream_path_do_not_import_pydantic(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


_IMPORTS_PYDANTIC = re.compile(r"^\s*(from|import) pydantic\b", re.MULTILINE)


def _importers(modules: set[str]) -> list[str]:
    """Our loaded modules whose source imports pydantic (to name them in a failure)."""
    found = []
    for name in sorted(m for m in modules if m.startswith("codex_engine")):
        spec = importlib.util.find_spec(name)
        source = spec.origin if spec is not None and spec.origin else ""
        if source.endswith(".py") and _IMPORTS_PYDANTIC.search(Path(source).read_text()):
            found.append(name)
    return found


async def test_a_one_turn_exec_does_not_import_pydantic(
    emulator: ResponsesEmulator, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    modules = await exec_modules(
        tmp_path, "--skip-git-repo-check", *emulator_flags(emulator.base_url), "hi", home=home
    )
    assert "codex_engine.core.session" in modules  # the turn really ran in that interpreter
    assert not modules & set(PYDANTIC), f"imported by {_importers(modules)}"
