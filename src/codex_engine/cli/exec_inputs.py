"""What ``exec`` reads besides its prompt argument: stdin appended as context, ``-i`` images as
data URLs, the ``--output-schema`` file; and the ``-o`` file it writes the last message to.

Every problem is an :class:`InputError` naming the file and the fix, raised before a session
starts; the ``-o`` file is replaced atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_engine.core.user_input import MAX_IMAGE_BYTES, load_image
from codex_engine.errors import InputError
from codex_engine.protocol.items import ContentPart, local_image_parts

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_PROMPT_CHARS",
    "check_prompt_length",
    "image_attachments",
    "load_output_schema",
    "with_stdin_context",
    "write_last_message",
]

#: The reference refuses user input over 1 MiB of characters (counted as code points).
MAX_PROMPT_CHARS = 1 << 20
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def with_stdin_context(prompt: str, stdin_text: str) -> str:
    """The prompt with piped stdin appended as context, in ``<stdin>`` tags as the reference
    does (the closing tag on its own line)."""
    body = stdin_text if stdin_text.endswith("\n") else stdin_text + "\n"
    return f"{prompt}\n\n<stdin>\n{body}</stdin>"


def check_prompt_length(text: str) -> None:
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt is {len(text):,} characters, over the limit of {MAX_PROMPT_CHARS:,} "
            "(1 MiB); shorten it, or let the model read the large part from a file"
        )


def image_attachments(paths: Sequence[Path]) -> list[ContentPart]:
    """Each ``-i`` file as a labelled ``input_image`` with a ``data:`` URL, in order, as the
    reference sends local images; InputError for the first unusable one."""
    parts: list[ContentPart] = []
    for number, path in enumerate(paths, start=1):
        parts += local_image_parts(number, str(path), _data_url(path))
    return parts


def _data_url(path: Path) -> str:
    import mimetypes  # only a run that attaches images needs it

    mime, _encoding = mimetypes.guess_type(path.name)
    if mime not in _IMAGE_TYPES:
        raise InputError(
            f"-i {path}: not a supported image type (PNG, JPEG, GIF or WebP, by file extension)"
        )
    loaded = load_image(path, mime=mime)
    if isinstance(loaded, str):
        return loaded
    if loaded.kind == "too_large":
        raise InputError(f"-i {path}: {loaded.reason}; scale it down first")
    raise InputError(f"-i {path}: cannot read the image ({loaded.reason}); check the path")


def load_output_schema(path: Path) -> Mapping[str, Any]:
    """The JSON schema in ``path`` (an object), for the turn's ``text.format``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"--output-schema {path}: cannot read the file ({reason}); check the path"
        ) from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--output-schema {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); fix the file"
        ) from None
    if not isinstance(schema, dict):
        raise InputError(f"--output-schema {path} must hold a JSON object (a JSON schema)")
    return schema


def write_last_message(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: a temporary file beside it, then a rename."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
