"""What the model gets back from an MCP tool call, in the reference's (0.163) shape.

A result with structured content is a string: a `Wall time` header, then the structured content
as compact JSON. Any other result (or a failure) is a list of input parts: the header, then one
part per content block: text as text, an image as a data-URL image (or a note when the model
takes no images), anything else as its compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["IMAGE_OMITTED", "error_output", "result_output", "wire_result"]

IMAGE_OMITTED = "<image content omitted because you do not support image input>"


def _header(duration_s: float) -> str:
    return f"Wall time: {duration_s:.4f} seconds\nOutput:"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def wire_result(result: Any) -> dict[str, Any]:
    """An SDK ``CallToolResult`` as MCP's JSON (camelCase, unset fields left out)."""
    dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    dumped.pop("resultType", None)
    return dumped


def _part(block: Any, supports_images: bool) -> dict[str, Any]:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text" and isinstance(block.get("text"), str):
        return {"type": "input_text", "text": block["text"]}
    if kind == "image" and isinstance(block.get("data"), str):
        if not supports_images:
            return {"type": "input_text", "text": IMAGE_OMITTED}
        mime = block.get("mimeType") or "image/png"
        url = f"data:{mime};base64,{block['data']}"
        return {"type": "input_image", "image_url": url, "detail": "high"}
    return {"type": "input_text", "text": _compact(block)}


def result_output(
    result: dict[str, Any], duration_s: float, *, supports_images: bool
) -> str | list[dict[str, Any]]:
    """The ``function_call_output.output`` for a tool's answer (``isError`` ones included)."""
    structured = result.get("structuredContent")
    if structured is not None:
        return f"{_header(duration_s)}\n{_compact(structured)}"
    content = result.get("content") or []
    return [
        {"type": "input_text", "text": _header(duration_s)},
        *(_part(block, supports_images) for block in content),
    ]


def error_output(message: str, duration_s: float) -> list[dict[str, Any]]:
    """The output for a call that produced no result (refused, timed out, server gone)."""
    return [
        {"type": "input_text", "text": _header(duration_s)},
        {"type": "input_text", "text": message},
    ]
