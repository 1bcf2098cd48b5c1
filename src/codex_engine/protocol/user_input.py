"""What a user hands a turn (text, images, local images, mentions, skills), parsed from the
app-server's ``UserInput`` objects, and how a thread shows it back (``userMessage`` content).

Pure data: reading local images and skill files is :mod:`codex_engine.core.user_input`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from codex_engine.errors import InputError

__all__ = [
    "IMAGE_NOT_PROCESSED",
    "ImageInput",
    "LocalImageInput",
    "MentionInput",
    "SkillInput",
    "TextInput",
    "UserInput",
    "input_text",
    "parse_user_inputs",
    "skill_text",
    "unreadable_image_text",
    "wire_content",
]

#: What the model reads in place of a local file that is not an image it can be shown.
IMAGE_NOT_PROCESSED = "image content omitted because it could not be processed"


class TextInput(msgspec.Struct, frozen=True):
    text: str
    text_elements: tuple[Any, ...] = ()


class ImageInput(msgspec.Struct, frozen=True):
    """An image as a ``data:`` URL (remote URLs are refused, as the reference refuses them)."""

    url: str
    detail: str | None = None


class LocalImageInput(msgspec.Struct, frozen=True):
    path: str
    detail: str | None = None


class MentionInput(msgspec.Struct, frozen=True):
    name: str
    path: str


class SkillInput(msgspec.Struct, frozen=True):
    name: str
    path: str


UserInput = TextInput | ImageInput | LocalImageInput | MentionInput | SkillInput


def _string(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise InputError(f"`{where}.{key}` should be a string")
    return value


def _detail(item: Mapping[str, Any], where: str) -> str | None:
    value = item.get("detail")
    if value is not None and not isinstance(value, str):
        raise InputError(f"`{where}.detail` should be a string")
    return value


def parse_user_inputs(items: Sequence[Any], *, field_name: str = "input") -> list[UserInput]:
    """The ``UserInput`` objects of a ``turn/start`` or ``turn/steer``; InputError names the
    first bad one."""
    parsed: list[UserInput] = []
    for index, item in enumerate(items):
        where = f"{field_name}.{index}"
        if not isinstance(item, Mapping):
            raise InputError(f"`{where}` should be an object")
        kind = item.get("type")
        if kind == "text":
            elements = item.get("text_elements")
            parsed.append(
                TextInput(
                    _string(item, "text", where),
                    tuple(elements) if isinstance(elements, list) else (),
                )
            )
        elif kind == "image":
            url = _string(item, "url", where)
            if not url.startswith("data:"):
                raise InputError(
                    "remote image URLs are not supported; use an inline data URL instead"
                )
            parsed.append(ImageInput(url, _detail(item, where)))
        elif kind == "localImage":
            parsed.append(LocalImageInput(_string(item, "path", where), _detail(item, where)))
        elif kind == "mention":
            parsed.append(MentionInput(_string(item, "name", where), _string(item, "path", where)))
        elif kind == "skill":
            parsed.append(SkillInput(_string(item, "name", where), _string(item, "path", where)))
        else:
            raise InputError(
                f"`{where}` has type {kind!r}; use text, image, localImage, mention or skill"
            )
    return parsed


def wire_content(inputs: Sequence[UserInput]) -> list[dict[str, Any]]:
    """The inputs as a ``userMessage`` item's content, as the reference shows them."""
    content: list[dict[str, Any]] = []
    for entry in inputs:
        match entry:
            case TextInput():
                content.append(
                    {"type": "text", "text": entry.text, "text_elements": list(entry.text_elements)}
                )
            case ImageInput():
                content.append({"type": "image", "url": entry.url, "detail": entry.detail})
            case LocalImageInput():
                content.append({"type": "localImage", "path": entry.path, "detail": entry.detail})
            case MentionInput():
                content.append({"type": "mention", "name": entry.name, "path": entry.path})
            case SkillInput():
                content.append({"type": "skill", "name": entry.name, "path": entry.path})
    return content


def input_text(inputs: Sequence[UserInput]) -> str:
    """The text items joined (a thread's preview, the prompt history)."""
    return "\n\n".join(entry.text for entry in inputs if isinstance(entry, TextInput))


def unreadable_image_text(path: str, reason: str) -> str:
    """What the model reads in place of a local image that cannot be read."""
    return f"Codex could not read the local image at `{path}`: {reason}"


def skill_text(name: str, path: str, contents: str) -> str:
    """A skill's instructions as the reference injects them (a user message of their own)."""
    return f"<skill>\n<name>{name}</name>\n<path>{path}</path>\n{contents}\n</skill>"
