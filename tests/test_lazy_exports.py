"""Packages on the start-up paths load their names on first use (codex_engine._lazy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from codex_engine._lazy import lazy_exports

PROBE = """
import sys
import codex_engine.auth as auth, codex_engine.core.rollout as rollout
assert "codex_engine.auth.manager" not in sys.modules
assert "codex_engine.core.rollout.reader" not in sys.modules
assert sorted(dir(auth)) == sorted(auth.__all__) and sorted(dir(rollout)) == sorted(rollout.__all__)
auth.AuthManager, rollout.read_rollout
assert "codex_engine.auth.manager" in sys.modules
assert "codex_engine.core.rollout.reader" in sys.modules
assert "AuthManager" in vars(auth)  # cached: the next use is a plain attribute
"""


def test_a_package_loads_a_submodule_only_when_one_of_its_names_is_used() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    getattr_, dir_ = lazy_exports("codex_engine.auth", {"AuthManager": "manager"}, {})
    with pytest.raises(AttributeError, match=r"'codex_engine\.auth' has no attribute 'nope'"):
        getattr_("nope")
    assert dir_() == ["AuthManager"]
