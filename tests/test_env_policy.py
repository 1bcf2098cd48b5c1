"""`[shell_environment_policy]`: the pure policy (a table of cases and properties) and how the
config reads it (file, profile, `-c`, warnings for unknown keys, one-line errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.config import load_config, parse_override
from codex_engine.config.loader import Config
from codex_engine.config.shell_environment import ShellEnvironmentPolicy
from codex_engine.core.tools.env_policy import (
    THREAD_ID_VARIABLE,
    create_env,
    matches_pattern,
)
from codex_engine.errors import ConfigError

ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "home": "/lower",
    "LANG": "C.UTF-8",
    "OPENAI_API_KEY": "sk-1",
    "CODEX_API_KEY": "sk-2",
    "MOCK_KEY": "sk-3",
    "gh_token": "ghp",
    "My_Secret_Thing": "s",
    "PLAIN": "p",
    "FOOBAR_x": "fb",
    "NODE_REPL_AUTH_TOKEN": "launch-only",
}


def policy(**fields: Any) -> ShellEnvironmentPolicy:
    return ShellEnvironmentPolicy(**fields)


# -- the pure policy -------------------------------------------------------------------------

CASES: list[tuple[str, ShellEnvironmentPolicy, set[str]]] = [
    (
        "default passes everything through (reference 0.163)",
        policy(),
        set(ENV) - {"NODE_REPL_AUTH_TOKEN"},
    ),
    (
        "core keeps the core names, ignoring case",
        policy(inherit="core"),
        {"PATH", "HOME", "home", "LANG"},
    ),
    ("none starts empty", policy(inherit="none"), set()),
    (
        "default excludes drop KEY/SECRET/TOKEN names, ignoring case",
        policy(ignore_default_excludes=False),
        {"PATH", "HOME", "home", "LANG", "PLAIN", "FOOBAR_x"},
    ),
    (
        "exclude globs match the whole name, ignoring case",
        policy(exclude=("plain", "f?obar_*", "HOM")),
        set(ENV) - {"PLAIN", "FOOBAR_x", "NODE_REPL_AUTH_TOKEN"},
    ),
    (
        "set comes after the excludes",
        policy(inherit="none", ignore_default_excludes=False, set_vars={"GH_TOKEN": "mine"}),
        {"GH_TOKEN"},
    ),
    (
        "include_only comes after set and can drop a set variable",
        policy(include_only=("PATH", "my_*"), set_vars={"NEWVAR": "n"}),
        {"PATH", "My_Secret_Thing"},
    ),
    (
        "set cannot restore a launch credential",
        policy(set_vars={"node_repl_auth_token": "x"}),
        set(ENV) - {"NODE_REPL_AUTH_TOKEN"},
    ),
]


@pytest.mark.parametrize(("case", "pol", "expected"), CASES, ids=[c[0] for c in CASES])
def test_policy_table(case: str, pol: ShellEnvironmentPolicy, expected: set[str]) -> None:
    result = create_env(ENV, pol)
    assert set(result) == expected, case
    for name in expected & set(ENV):
        assert result[name] == ENV[name]


def test_set_values_and_thread_id_are_added() -> None:
    result = create_env(
        ENV, policy(inherit="none", set_vars={"A": "1"}, include_only=("a",)), thread_id="t-1"
    )
    # The thread id is added after include_only, as the reference does.
    assert result == {"A": "1", THREAD_ID_VARIABLE: "t-1"}


@pytest.mark.parametrize(
    ("name", "pattern", "matches"),
    [
        ("OPENAI_API_KEY", "*KEY*", True),
        ("openai_api_key", "*KEY*", True),
        ("KEYBOARD", "*KEY*", True),
        ("FOO", "FOO", True),
        ("FOOBAR", "FOO", False),
        ("XFOO", "FOO", False),
        ("FOO1", "FOO?", True),
        ("FOO", "FOO?", False),
        ("A.B", "A.B", True),
        ("AxB", "A.B", False),
        ("[A]", "[A]", True),
        ("A", "[A]", False),
        ("", "*", True),
    ],
)
def test_patterns_are_globs_on_the_whole_name(name: str, pattern: str, matches: bool) -> None:
    assert matches_pattern(name, pattern) is matches


names = st.text(
    alphabet=st.sampled_from("ABCKEYSECRTOKNPATHkeysecrtokn_1"), min_size=1, max_size=12
)
environments = st.dictionaries(names, st.text(max_size=8), max_size=12)
patterns = st.lists(
    st.text(alphabet=st.sampled_from("AKEYTOPkey_*?"), min_size=1, max_size=6), max_size=3
)


@given(
    env=environments,
    inherit=st.sampled_from(["all", "core", "none"]),
    ignore=st.booleans(),
    exclude=patterns,
    include=patterns,
    set_vars=st.dictionaries(names, st.text(max_size=4), max_size=3),
)
def test_policy_properties(
    env: dict[str, str],
    inherit: Any,
    ignore: bool,
    exclude: list[str],
    include: list[str],
    set_vars: dict[str, str],
) -> None:
    pol = policy(
        inherit=inherit,
        ignore_default_excludes=ignore,
        exclude=tuple(exclude),
        include_only=tuple(include),
        set_vars=set_vars,
    )
    result = create_env(env, pol, thread_id="tid")
    assert result.pop(THREAD_ID_VARIABLE) == "tid"
    for name, value in result.items():
        # Nothing appears that neither the environment nor `set` provided, values untouched.
        assert value == set_vars.get(name, env.get(name))
        if include:
            assert any(matches_pattern(name, p) for p in include)
        if name in set_vars:
            continue
        # An inherited variable passed every filter.
        assert not any(matches_pattern(name, p) for p in exclude)
        if not ignore:
            assert not any(word in name.upper() for word in ("KEY", "SECRET", "TOKEN"))
        if inherit == "none":
            pytest.fail(f"{name} inherited under inherit=none")
    # And nothing that passes every filter is lost.
    if inherit == "all" and ignore and not exclude and not include:
        assert result == {**env, **set_vars}


# -- config ----------------------------------------------------------------------------------


def load(home: Path, text: str, *overrides: str, profile: str | None = None) -> Config:
    (home / "config.toml").write_text(text, encoding="utf-8")
    return load_config(
        codex_home=home,
        overrides=[parse_override(o) for o in overrides],
        profile=profile,
        cwd=home,
        env={},
    )


def test_no_table_means_the_reference_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.shell_environment_policy == ShellEnvironmentPolicy(
        inherit="all", ignore_default_excludes=True
    )
    assert config.feature_warnings == []


def test_every_key_is_read_from_the_file(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
[shell_environment_policy]
inherit = "core"
ignore_default_excludes = false
exclude = ["AWS_*", "AZURE_*"]
set = { CI = "1" }
include_only = ["PATH", "HOME", "CI"]
""",
    )
    assert config.shell_environment_policy == ShellEnvironmentPolicy(
        inherit="core",
        ignore_default_excludes=False,
        exclude=("AWS_*", "AZURE_*"),
        set_vars={"CI": "1"},
        include_only=("PATH", "HOME", "CI"),
    )


def test_profile_merges_key_by_key_and_c_wins(tmp_path: Path) -> None:
    text = """
[shell_environment_policy]
inherit = "core"
exclude = ["A"]
[profiles.strict.shell_environment_policy]
exclude = ["B"]
ignore_default_excludes = false
"""
    config = load(tmp_path, text, profile="strict")
    assert config.shell_environment_policy.inherit == "core"
    assert config.shell_environment_policy.exclude == ("B",)
    assert config.shell_environment_policy.ignore_default_excludes is False
    config = load(
        tmp_path,
        text,
        'shell_environment_policy.exclude=["C"]',
        "shell_environment_policy.inherit=none",
        profile="strict",
    )
    assert config.shell_environment_policy.exclude == ("C",)
    assert config.shell_environment_policy.inherit == "none"
    # Without the profile its table does not apply.
    assert load(tmp_path, text).shell_environment_policy.exclude == ("A",)


def test_unknown_keys_warn_naming_where_they_came_from(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "[shell_environment_policy]\ninherit = 'core'\nexlude = ['X']\n"
        "[profiles.p.shell_environment_policy]\nbogus = 1\n",
        "shell_environment_policy.also_bogus=true",
        profile="p",
    )
    warnings = config.feature_warnings
    assert len(warnings) == 3, warnings
    by_key = {w.split("`")[1]: w for w in warnings}
    assert str(tmp_path / "config.toml") in by_key["exlude"]
    assert "[profiles.p]" in by_key["bogus"]
    assert "-c override" in by_key["also_bogus"]
    assert all("known keys: inherit, ignore_default_excludes" in w for w in warnings)
    # The known keys still apply.
    assert config.shell_environment_policy.inherit == "core"


def test_experimental_use_profile_is_accepted_with_a_warning(tmp_path: Path) -> None:
    config = load(tmp_path, "[shell_environment_policy]\nexperimental_use_profile = true\n")
    assert config.shell_environment_policy.use_profile is True
    assert any("experimental_use_profile" in w and "ignored" in w for w in config.feature_warnings)
    assert (
        load(
            tmp_path, "[shell_environment_policy]\nexperimental_use_profile = false\n"
        ).feature_warnings
        == []
    )


@pytest.mark.parametrize(
    ("text", "override", "needles"),
    [
        (
            "[shell_environment_policy]\ninherit = 'some'\n",
            None,
            ["`shell_environment_policy.inherit`", '"all", "core" or "none"', "config.toml"],
        ),
        (
            "",
            "shell_environment_policy.inherit=some",
            ["`shell_environment_policy.inherit`", "-c override", "Fix the -c value"],
        ),
        (
            "",
            'shell_environment_policy.exclude="PLAIN"',
            ["`shell_environment_policy.exclude`", "an array"],
        ),
        (
            "",
            "shell_environment_policy.set={N=1}",
            ["`shell_environment_policy.set.N`", "a string"],
        ),
        (
            "",
            "shell_environment_policy.ignore_default_excludes=yes",
            ["ignore_default_excludes", "true or false"],
        ),
        (
            "[profiles.p.shell_environment_policy]\ninclude_only = 'PATH'\n",
            None,
            ["`profiles.p.shell_environment_policy.include_only`", "an array"],
        ),
        ("shell_environment_policy = 'all'\n", None, ["`shell_environment_policy`", "a table"]),
    ],
)
def test_bad_values_are_one_line_errors_naming_key_source_and_fix(
    tmp_path: Path, text: str, override: str | None, needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text, *([override] if override else []))
    message = str(raised.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
