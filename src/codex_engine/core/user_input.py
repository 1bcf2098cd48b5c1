"""A user's turn input made into what the model reads: local images read into ``data:`` URLs
(labelled as the reference labels them), skills read from their files; and the user message
as the thread shows it back.

A local image that cannot be read, or is not an image, does not fail the turn: the model reads
a line saying so, as with the reference. ``exec -i`` shares :func:`load_image` but refuses such
files before a session starts.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from codex_engine.protocol.items import (
    ContentPart,
    Message,
    ResponseItem,
    image_part,
    local_image_parts,
)
from codex_engine.protocol.user_input import (
    IMAGE_NOT_PROCESSED,
    ImageInput,
    LocalImageInput,
    SkillInput,
    TextInput,
    UserInput,
    input_text,
    skill_text,
    unreadable_image_text,
    wire_content,
)

__all__ = [
    "MAX_IMAGE_BYTES",
    "ImageProblem",
    "PreparedInput",
    "image_mime",
    "load_image",
    "prepare_input",
]

#: The largest local image sent; the Responses API refuses much larger payloads.
MAX_IMAGE_BYTES = 20 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_mime(data: bytes) -> str | None:
    """The image type the bytes start with (PNG, JPEG, GIF, WebP), or ``None``."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImageProblem(msgspec.Struct, frozen=True):
    """Why a local image was not loaded: unreadable (``reason`` as the OS says it), not an
    image, or too large."""

    kind: Literal["unreadable", "not_image", "too_large"]
    reason: str


def _os_reason(exc: OSError) -> str:
    """The reason as the reference words it, e.g. ``No such file or directory (os error 2)``."""
    if exc.errno is not None and exc.strerror:
        return f"{exc.strerror} (os error {exc.errno})"
    return str(exc)


def load_image(path: Path, *, mime: str | None = None) -> str | ImageProblem:
    """The image at ``path`` as a ``data:`` URL; ``mime`` (when known from the name) is used
    as is, otherwise the bytes say what the image is."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            return ImageProblem(
                "too_large", f"the image is {size:,} bytes, over the limit of {MAX_IMAGE_BYTES:,}"
            )
        data = path.read_bytes()
    except OSError as exc:
        return ImageProblem("unreadable", _os_reason(exc))
    kind = mime or image_mime(data)
    if kind is None:
        return ImageProblem("not_image", "not a PNG, JPEG, GIF or WebP image")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


class PreparedInput(msgspec.Struct, frozen=True):
    """A user's input ready for the conversation: the items the model reads (the message,
    then any skill), the text, and the content the thread shows."""

    items: tuple[ResponseItem, ...]
    text: str
    content: tuple[dict[str, Any], ...]


def _skill_item(skill: SkillInput, skill_roots: Sequence[Path]) -> Message | None:
    """The skill's instructions, when its file is one of the known skills (the reference
    injects only skills it discovered; others are shown but not read)."""
    path = Path(skill.path)
    try:
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root.resolve()) for root in skill_roots):
            return None
        contents = resolved.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = skill_text(skill.name, skill.path, contents)
    return Message(role="user", content=[ContentPart(type="input_text", text=text)])


def prepare_input(
    inputs: Sequence[UserInput], *, cwd: Path, skill_roots: Sequence[Path] = ()
) -> PreparedInput:
    """The user's message (parts in the order given), then one message per known skill.
    Mentions are shown in the thread but add nothing the model reads, as with the reference."""
    parts: list[ContentPart] = []
    skills: list[ResponseItem] = []
    images = 0
    for entry in inputs:
        match entry:
            case TextInput():
                parts.append(ContentPart(type="input_text", text=entry.text))
            case ImageInput():
                parts.append(image_part(entry.url))
            case LocalImageInput():
                images += 1
                loaded = load_image(cwd / Path(entry.path).expanduser())
                if isinstance(loaded, str):
                    parts += local_image_parts(images, entry.path, loaded)
                elif loaded.kind == "unreadable":
                    text = unreadable_image_text(entry.path, loaded.reason)
                    parts.append(ContentPart(type="input_text", text=text))
                else:
                    label, _image, closing = local_image_parts(images, entry.path, "")
                    parts += [
                        label,
                        ContentPart(type="input_text", text=IMAGE_NOT_PROCESSED),
                        closing,
                    ]
            case SkillInput():
                skill = _skill_item(entry, skill_roots)
                if skill is not None:
                    skills.append(skill)
            case _:
                pass
    message = Message(role="user", content=parts)
    return PreparedInput(
        items=(message, *skills), text=input_text(inputs), content=tuple(wire_content(inputs))
    )
