"""The small markup ``exec`` colours its status lines with (``cli/ansi.py``)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.cli.ansi import AnsiConsole, escape, render, wants_color


@given(st.text())
def test_escaped_text_is_shown_exactly_as_given(text: str) -> None:
    assert render(escape(text), color=False) == text
    assert render(escape(text), color=True) == text


def test_tags_become_escapes_with_color_and_vanish_without() -> None:
    markup = "[yellow]warning:[/yellow] disk [dim]full[/dim]"
    assert render(markup, color=False) == "warning: disk full"
    assert render(markup, color=True) == ("\x1b[33mwarning:\x1b[0m disk \x1b[2mfull\x1b[0m")


def test_nested_styles_restore_the_outer_one_and_an_unclosed_style_is_reset() -> None:
    assert render("[dim]a [red]b[/red] c", color=True) == (
        "\x1b[2ma \x1b[31mb\x1b[0m\x1b[2m c\x1b[0m"
    )


def test_unknown_brackets_are_text() -> None:
    assert render("[1/3] [link] [/nope]", color=True) == "[1/3] [link] [/nope]"


@pytest.mark.parametrize(
    ("env", "choice", "expected"),
    [
        ({}, True, True),
        ({"NO_COLOR": "1"}, True, True),  # --color always wins over the environment
        ({"FORCE_COLOR": "1"}, False, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, None, False),
        ({"FORCE_COLOR": "1"}, None, True),
        ({"TERM": "dumb"}, None, False),
        ({}, None, False),  # not a terminal
    ],
)
def test_color_is_decided_by_the_flag_then_the_environment_then_the_terminal(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], choice: bool | None, expected: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert wants_color(io.StringIO(), choice) is expected


def test_the_console_prints_whole_lines_and_can_skip_markup() -> None:
    out = io.StringIO()
    console = AnsiConsole(out, color=True)
    console.print("[red]x[/red]")
    console.print("[red]kept[/red]", markup=False)
    assert out.getvalue() == "\x1b[31mx\x1b[0m\n[red]kept[/red]\n"
