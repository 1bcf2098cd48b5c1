"""Which web search mode a turn gets, and the tool entry each mode sends."""

from __future__ import annotations

import pytest

from codex_engine.core.web_search import resolve_web_search_mode, web_search_tool
from codex_engine.errors import ConfigError

SANDBOXES = ["read-only", "workspace-write", "danger-full-access"]


@pytest.mark.parametrize(
    ("configured", "sandbox_mode", "per_turn", "expected"),
    [
        # Nothing set: live only when commands already run unsandboxed.
        (None, "read-only", None, "cached"),
        (None, "workspace-write", None, "cached"),
        (None, "danger-full-access", None, "live"),
        # An explicit config value wins over the sandbox default, in every sandbox.
        *[("disabled", sandbox, None, "disabled") for sandbox in SANDBOXES],
        *[("cached", sandbox, None, "cached") for sandbox in SANDBOXES],
        *[("live", sandbox, None, "live") for sandbox in SANDBOXES],
        # A per-turn override wins over both.
        ("live", "danger-full-access", "disabled", "disabled"),
        ("disabled", "read-only", "live", "live"),
        ("cached", "danger-full-access", "live", "live"),
        (None, "danger-full-access", "cached", "cached"),
        (None, "read-only", "disabled", "disabled"),
    ],
)
def test_mode_resolution(
    configured: str | None, sandbox_mode: str, per_turn: str | None, expected: str
) -> None:
    mode = resolve_web_search_mode(configured, sandbox_mode=sandbox_mode, per_turn=per_turn)
    assert mode == expected


def test_unknown_configured_mode_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"`web_search`.*'always'.*\"disabled\", \"cached\""):
        resolve_web_search_mode("always", sandbox_mode="read-only")


def test_unknown_per_turn_mode_is_rejected() -> None:
    with pytest.raises(ConfigError, match="turn"):
        resolve_web_search_mode(None, sandbox_mode="read-only", per_turn="on")


def test_tool_entry_per_mode() -> None:
    assert web_search_tool("disabled") is None
    assert web_search_tool("cached") == {"type": "web_search", "external_web_access": False}
    assert web_search_tool("live") == {"type": "web_search", "external_web_access": True}
