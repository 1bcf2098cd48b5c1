"""What a user hands the CLI must be UTF-8 text: the arguments, the prompt on stdin, the working
directory. Anything else is refused up front with the byte offset and the fix, before a session
file exists."""

from __future__ import annotations

from collections.abc import Sequence

from codex_engine.errors import InputError  # defined in the one tree, importable from here

__all__ = ["InputError", "check_arguments", "check_path", "decode_stdin_prompt"]

_FIX = "convert it to UTF-8 first, e.g. with `iconv -f <encoding> -t UTF-8`"
_PREVIEW_CHARS = 40


def _bad_byte(data: bytes) -> tuple[int, int] | None:
    """The offset and value of the first byte that is not valid UTF-8, if any."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, data[exc.start]
    return None


def _as_bytes(text: str) -> bytes:
    # argv and paths arrive with undecodable bytes smuggled in as lone surrogates
    # (surrogateescape); turning them back gives the bytes the user actually typed.
    return text.encode("utf-8", "surrogateescape")


def _preview(data: bytes) -> str:
    shown = data[:_PREVIEW_CHARS].decode("utf-8", "backslashreplace")
    # Newlines and other control characters are escaped so the message stays on one line.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
    return "'" + shown + ("…" if len(data) > _PREVIEW_CHARS else "") + "'"


def check_arguments(argv: Sequence[str]) -> str | None:
    """The one-line problem with the first argument that is not UTF-8, or None when all are."""
    for position, argument in enumerate(argv, start=1):
        data = _as_bytes(argument)
        bad = _bad_byte(data)
        if bad is not None:
            offset, value = bad
            return (
                f"argument {position} ({_preview(data)}) is not valid UTF-8: byte 0x{value:02x} "
                f"at offset {offset}; {_FIX}"
            )
    return None


def check_path(path: str, what: str) -> None:
    """Refuse a path that is not UTF-8: it could not be sent to the model or recorded."""
    data = _as_bytes(path)
    bad = _bad_byte(data)
    if bad is not None:
        offset, value = bad
        raise InputError(
            f"{what} {_preview(data)} is not valid UTF-8 (byte 0x{value:02x} at offset "
            f"{offset}); run from a directory whose path is UTF-8, or rename it"
        )


def decode_stdin_prompt(data: bytes) -> str:
    """The prompt piped on stdin as text; InputError naming the offset when it is not UTF-8."""
    bad = _bad_byte(data)
    if bad is not None:
        offset, value = bad
        raise InputError(
            f"the prompt on stdin is not valid UTF-8: byte 0x{value:02x} at offset {offset}; "
            "convert it first, e.g. `iconv -f <encoding> -t UTF-8 FILE | codex-engine exec -`"
        )
    text = data.decode("utf-8")
    # A byte-order mark is an encoding artefact, not part of the prompt.
    return text.removeprefix("\ufeff")
