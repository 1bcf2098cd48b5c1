"""Status lines on stderr with a few colours: a small ``[style]…[/style]`` markup rendered as ANSI
escapes, so ``exec`` does not import rich (about 40 ms) to colour six words."""

from __future__ import annotations

import os
import re
from typing import TextIO

__all__ = ["AnsiConsole", "escape"]

_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}
# An escaped bracket, or an opening/closing tag of a known style; any other bracket is text.
_TOKEN = re.compile(r"\\\[|\[(/?)(" + "|".join(_STYLES) + r")\]")


def escape(text: str) -> str:
    """``text`` shown as is, even when it contains something that looks like a style tag."""
    return text.replace("[", "\\[")


def wants_color(stream: TextIO, choice: bool | None) -> bool:
    """``--color always|never`` decides; otherwise NO_COLOR, FORCE_COLOR, then the terminal."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: no colour
        return False


def render(markup: str, *, color: bool) -> str:
    """The text of ``markup`` with its tags turned into escapes (or dropped without colour)."""
    out: list[str] = []
    active: list[str] = []
    position = 0
    for match in _TOKEN.finditer(markup):
        out.append(markup[position : match.start()])
        position = match.end()
        closing, style = match.groups()
        if style is None:  # an escaped bracket
            out.append("[")
        elif closing:
            if style in active:
                active.remove(style)
            if color:
                out.append("\x1b[0m" + "".join(f"\x1b[{_STYLES[s]}m" for s in active))
        else:
            active.append(style)
            if color:
                out.append(f"\x1b[{_STYLES[style]}m")
    out.append(markup[position:])
    if color and active:
        out.append("\x1b[0m")
    return "".join(out)


class AnsiConsole:
    """Prints marked-up lines to one stream, coloured or not as decided once at creation."""

    def __init__(self, file: TextIO, *, color: bool | None = None) -> None:
        self._file = file
        self.color = wants_color(file, color)

    def print(self, text: str, *, markup: bool = True) -> None:
        line = render(text, color=self.color) if markup else text
        self._file.write(line + "\n")
        self._file.flush()
