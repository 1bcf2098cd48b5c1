"""Split a ``bash -c`` script into simple commands, accepting only syntax that is provably inert.

Words (plain, quoted, backslash-escaped) joined by ``&&``, ``||``, ``;`` and ``|``; anything else a
shell would act on (redirection, substitution, expansion, subshells, newlines) is refused.
"""

from __future__ import annotations

import msgspec

__all__ = ["Word", "parse_simple_commands", "split_shell_script"]


class Word(msgspec.Struct, frozen=True):
    """One argument as the shell passes it, before pathname expansion."""

    text: str
    #: Unquoted ``* ? [``, ``~`` and the like: the shell may replace the word with other text
    #: (file names from the disk, a home directory), so its final value is not known here.
    expands: bool = False


_OPERATORS = frozenset({"&&", "||", ";", "|"})
_BLANKS = frozenset(" \t")
# Unquoted, these make the shell do something other than pass a word along: redirect, substitute,
# expand variables or braces, start a subshell or a comment, negate, or run in the background.
_REFUSED = frozenset("<>()`${}!")
# Unquoted, these may make the word expand to file names. zsh adds `^`, `~` and `#` (with
# extendedglob, which a login profile may set) and `=cmd` at the start of a word.
_GLOBS = frozenset("*?[")
_ZSH_EXPANDING = frozenset("^~#")
# Double quotes still expand `$` and backquotes; a backslash there only escapes these.
_DQUOTE_ESCAPABLE = frozenset('$`"\\')


class _Refused(Exception):
    """The script uses syntax that is not proven harmless."""


def _tokenize(script: str, *, zsh: bool) -> list[str | Word]:
    """Words and operators in order; raises :class:`_Refused` on anything else."""
    tokens: list[str | Word] = []
    text: list[str] = []
    in_word = False
    expands = False
    i, n = 0, len(script)

    def end_word() -> None:
        nonlocal in_word, expands
        if in_word:
            tokens.append(Word("".join(text), expands))
        text.clear()
        in_word = False
        expands = False

    while i < n:
        ch = script[i]
        if ch in _BLANKS:
            end_word()
            i += 1
        elif not ch.isprintable():
            # Newlines separate commands and other control characters are not plain text:
            # neither is part of the accepted syntax.
            raise _Refused
        elif ch == "'":
            close = script.find("'", i + 1)
            if close < 0:
                raise _Refused
            segment = script[i + 1 : close]
            if not segment.isprintable():
                raise _Refused
            text.append(segment)
            in_word = True
            i = close + 1
        elif ch == '"':
            i = _double_quoted(script, i + 1, text)
            in_word = True
        elif ch == "\\":
            if i + 1 >= n or not script[i + 1].isprintable():
                raise _Refused
            text.append(script[i + 1])
            in_word = True
            i += 2
        elif ch in "&|;":
            end_word()
            pair = script[i : i + 2]
            if pair in ("&&", "||"):
                tokens.append(pair)
                i += 2
            elif ch == "&" or pair in ("|&", ";;", ";&", ";|"):
                raise _Refused  # background, stderr pipe, case terminators
            else:
                tokens.append(ch)
                i += 1
        elif ch in _REFUSED or (ch == "#" and not in_word):
            raise _Refused
        else:
            if ch in _GLOBS or (zsh and (ch in _ZSH_EXPANDING or (ch == "=" and not in_word))):
                expands = True
            elif ch == "~" and (not in_word or (text and text[-1][-1:] in ("=", ":"))):
                # A home directory: at the start of a word, or after `=`/`:` in `a=~/x`.
                expands = True
            text.append(ch)
            in_word = True
            i += 1
    end_word()
    return tokens


def _double_quoted(script: str, start: int, text: list[str]) -> int:
    """Append the content of a double-quoted string opened before ``start``; index after it."""
    i, n = start, len(script)
    while i < n:
        ch = script[i]
        if ch == '"':
            return i + 1
        if ch in "$`" or not ch.isprintable():
            raise _Refused
        if ch == "\\" and i + 1 < n and script[i + 1] in _DQUOTE_ESCAPABLE:
            text.append(script[i + 1])
            i += 2
            continue
        text.append(ch)
        i += 1
    raise _Refused  # unterminated


def parse_simple_commands(script: str, *, zsh: bool = False) -> list[list[Word]] | None:
    """The simple commands of ``script`` if it is only words joined by ``&& || ; |``.

    ``None`` when it uses anything else, has an empty command (``ls &&``, ``; ls``) or is empty.
    An environment assignment (``X=1 cmd``) is returned as a word; callers that match the first
    word of a command against known programs never accept it. ``zsh`` marks the words that zsh
    (rather than bash or sh) may expand.
    """
    try:
        tokens = _tokenize(script, zsh=zsh)
    except _Refused:
        return None
    commands: list[list[Word]] = [[]]
    for token in tokens:
        if isinstance(token, Word):
            commands[-1].append(token)
        elif token in _OPERATORS and commands[-1]:
            commands.append([])
        else:
            return None
    if not commands[-1]:
        return None
    return commands


def split_shell_script(script: str) -> list[list[str]] | None:
    """Like :func:`parse_simple_commands`, as plain argument lists (before any expansion)."""
    commands = parse_simple_commands(script)
    if commands is None:
        return None
    return [[word.text for word in command] for command in commands]
