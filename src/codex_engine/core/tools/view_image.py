"""``view_image``: the model asks to see a local image; it comes back as the call's output, an
``input_image`` part with the file as a data URL. Only files the sandbox policy lets the model
read, up to a size limit, and only real PNG, JPEG, GIF or WebP images.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import msgspec

from codex_engine.core.events import ImageViewed
from codex_engine.core.sandbox import sandbox_writable_roots
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = ["MAX_IMAGE_BYTES", "VIEW_IMAGE_TOOL_NAME", "ViewImageTool", "readable_roots"]

VIEW_IMAGE_TOOL_NAME = "view_image"
#: Larger files are refused rather than resized (no image library here): the API's request
#: limit is far above this, and a screenshot or diagram fits well under it.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Leading bytes of each image type the Responses API accepts, and its MIME type.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_DETAILS = ("high", "original")
_DESCRIPTION = (
    "Look at a local image file (PNG, JPEG, GIF or WebP), such as a screenshot or a diagram "
    "the user points to or a command produced. The image is shown to you in the tool's output. "
    "The path may be relative to the working directory."
)


class _Refusal(msgspec.Struct, frozen=True):
    """Why the image cannot be shown; told to the model as the call's output."""

    reason: str


def readable_roots(settings: SessionSettings) -> list[Path] | None:
    """Where ``view_image`` may read: the workspace and the writable roots of the policy
    (``--add-dir`` included); ``None`` (anywhere) under ``danger-full-access``."""
    if settings.sandbox_mode == "danger-full-access":
        return None
    if settings.sandbox_mode == "workspace-write":
        return sandbox_writable_roots(settings.cwd, settings.extra_writable_roots)
    return [root.resolve() for root in (settings.cwd, *settings.extra_writable_roots)]


def _mime_type(head: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _load(path: Path, settings: SessionSettings) -> str | _Refusal:
    """The image at ``path`` as a data URL, or why it may not or cannot be shown."""
    resolved = path.resolve()
    roots = readable_roots(settings)
    if roots is not None and not any(resolved.is_relative_to(root) for root in roots):
        shown = ", ".join(str(root) for root in roots)
        return _Refusal(
            f"cannot view {path}: it is outside what sandbox mode {settings.sandbox_mode!r} "
            f"lets you read ({shown}); copy the image into the workspace first"
        )
    try:
        if not resolved.is_file():
            what = "does not exist" if not resolved.exists() else "is not a file"
            return _Refusal(f"cannot view {path}: it {what}")
        size = resolved.stat().st_size
        if size > MAX_IMAGE_BYTES:
            return _Refusal(
                f"cannot view {path}: it is {size} bytes, over the {MAX_IMAGE_BYTES}-byte "
                "limit; make a smaller copy (e.g. scaled down) and view that"
            )
        data = resolved.read_bytes()
    except OSError as exc:
        return _Refusal(f"cannot view {path}: {exc.strerror or exc}")
    mime = _mime_type(data[:16])
    if mime is None:
        return _Refusal(f"cannot view {path}: it is not a PNG, JPEG, GIF or WebP image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class ViewImageTool:
    """``view_image`` for the models whose catalog lists image input; ``detail`` is offered to
    the models that may ask for an image at its original resolution."""

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        info = settings.model_info
        if "image" not in info.input_modalities:
            return []
        properties: dict[str, object] = {
            "path": {"type": "string", "description": "Path of the image file to look at."}
        }
        if info.extra.get("supports_image_detail_original"):
            properties["detail"] = {
                "type": "string",
                "enum": list(_DETAILS),
                "description": "'original' to see the image at full resolution.",
            }
        return [
            {
                "type": "function",
                "name": VIEW_IMAGE_TOOL_NAME,
                "description": _DESCRIPTION,
                "strict": False,
                "parameters": {
                    "type": "object",
                    "properties": properties,
                    "required": ["path"],
                    "additionalProperties": False,
                },
            }
        ]

    def handles(self, name: str) -> bool:
        return name == VIEW_IMAGE_TOOL_NAME

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        def answer(output: object) -> FunctionCallOutput:
            return FunctionCallOutput(call_id=call.call_id, output=output)

        if "image" not in ctx.settings.model_info.input_modalities:
            return answer("view_image is unavailable: this model does not take image input")
        try:
            arguments = json.loads(call.arguments)
            path = arguments["path"]
            detail = arguments.get("detail")
            if not isinstance(path, str) or not path or detail not in (None, *_DETAILS):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            return answer(
                'invalid arguments: expected {"path": "IMAGE_FILE"} and optionally '
                '"detail": "high" or "original"'
            )
        url = await asyncio.to_thread(_load, ctx.settings.cwd / path, ctx.settings)
        if isinstance(url, _Refusal):
            ctx.metrics.tool_call(VIEW_IMAGE_TOOL_NAME, False, 0.0)
            return answer(url.reason)
        ctx.metrics.tool_call(VIEW_IMAGE_TOOL_NAME, True, 0.0)
        ctx.emit(ImageViewed(call.call_id, str((ctx.settings.cwd / path).resolve())))
        part: dict[str, str] = {"type": "input_image", "image_url": url}
        if detail is not None:
            part["detail"] = detail
        return answer([part])
