"""Every stable client method of the reference schema gets an answer from codex-engine: served,
or refused with -32600 as not supported (by design) or not implemented yet, each listed in the
README. None may answer as an unknown method."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

from codex_engine.app_server import handlers  # noqa: F401  (fills REGISTRY)
from codex_engine.app_server.registry import REGISTRY
from codex_engine.emulator import ResponsesEmulator
from tests.conftest import require_reference
from tests.test_app_server import RawClient

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_patterns(label: str) -> list[str]:
    """The backticked method names and globs of the README bullet that starts with ``label``."""
    text = README.read_text()
    start = text.index(f"- {label}")
    end = text.find("\n- ", start + 2)
    bullet = text[start : end if end != -1 else None].split("\n\n", 1)[0]
    return re.findall(r"`([^`]+)`", bullet)


def _stable_methods() -> list[str]:
    schema = require_reference("app-server-schema") / "ClientRequest.json"
    variants = json.loads(schema.read_text())["oneOf"]
    return [v["properties"]["method"]["enum"][0] for v in variants]


def _covered(method: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(method, pattern) for pattern in patterns)


async def test_every_stable_client_method_is_served_or_refused_as_documented(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    methods = _stable_methods()
    unsupported = _readme_patterns("Not supported by codex-engine")
    pending = _readme_patterns("Not implemented yet")
    client = await RawClient.start(codex_home, tmp_path, emulator)
    answers: dict[str, dict[str, object]] = {}
    try:
        await client.initialize()
        for method in methods:
            if method != "initialize":
                answers[method] = await client.call(method, {})
    finally:
        assert await client.close() == 0
    unknown, undocumented, served = [], [], ["initialize"]
    for method, answer in answers.items():
        error = answer.get("error")
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        if "unknown method" in message:
            unknown.append(method)
        elif "not supported by codex-engine" in message:
            assert isinstance(error, dict) and error["code"] == -32600
            if not _covered(method, unsupported):
                undocumented.append(method)
        elif "not implemented yet in codex-engine" in message:
            assert isinstance(error, dict) and error["code"] == -32600
            if not _covered(method, pending):
                undocumented.append(method)
        else:
            served.append(method)
    assert unknown == [], "answer these (implement, or declare them in handlers/gaps.py)"
    assert undocumented == [], "list these in the README's app-server section"
    assert sorted(served) == sorted(REGISTRY.names & set(methods))
    # Nothing served is also documented as missing.
    assert [m for m in served if _covered(m, unsupported + pending)] == []
    assert client.schema_errors() == []
