"""An MCP tool's `inputSchema` as the reference sends it to the Responses API (`parameters`).

Pure. Measured on the reference (0.163): keywords the API's function schemas do not need are
dropped (`title`, `default`, `format`, `pattern`, bounds, `examples`, ...); a missing `type` is
inferred (`enum` and `const` make a string, numeric bounds a number, `properties` an object,
`items` an array); `const` becomes a one-value `enum`; `true` becomes `{"type": "string"}`; every
object gets `properties` and every array `items`; `$ref`, `$defs`/`definitions`, `anyOf`, `oneOf`,
`allOf`, `additionalProperties` and `required` are kept. The top level is always an object.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sanitize_input_schema"]

_NUMERIC_HINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRING_HINTS = ("minLength", "maxLength", "pattern", "format")
_COMBINERS = ("anyOf", "oneOf", "allOf")
_DEFINITIONS = ("$defs", "definitions")


def _infer_type(schema: dict[str, Any]) -> str | None:
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if "enum" in schema or "const" in schema or any(k in schema for k in _STRING_HINTS):
        return "string"
    if any(key in schema for key in _NUMERIC_HINTS):
        return "number"
    return None


def _sanitize(value: Any) -> Any:
    if isinstance(value, bool):
        return {"type": "string"}
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    if "$ref" in value:
        out["$ref"] = value["$ref"]
    kind = value.get("type")
    if kind is None and "$ref" not in value and not any(c in value for c in _COMBINERS):
        kind = _infer_type(value)
    if kind is not None:
        out["type"] = kind
    if isinstance(value.get("description"), str):
        out["description"] = value["description"]
    if "const" in value and "enum" not in value:
        out["enum"] = [value["const"]]
    elif isinstance(value.get("enum"), list):
        out["enum"] = value["enum"]
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "object" in kinds:
        properties = value.get("properties")
        out["properties"] = (
            {name: _sanitize(sub) for name, sub in sorted(properties.items())}
            if isinstance(properties, dict)
            else {}
        )
        if isinstance(value.get("required"), list):
            out["required"] = value["required"]
        additional = value.get("additionalProperties")
        if isinstance(additional, bool):
            out["additionalProperties"] = additional
        elif isinstance(additional, dict):
            out["additionalProperties"] = _sanitize(additional)
    if "array" in kinds:
        items = value.get("items")
        out["items"] = _sanitize(items) if isinstance(items, dict | bool) else {"type": "string"}
    for combiner in _COMBINERS:
        if isinstance(value.get(combiner), list):
            out[combiner] = [_sanitize(sub) for sub in value[combiner]]
    for key in _DEFINITIONS:
        if isinstance(value.get(key), dict):
            out[key] = {name: _sanitize(sub) for name, sub in value[key].items()}
    return out


def sanitize_input_schema(schema: Any) -> dict[str, Any]:
    """The `parameters` object for a function tool made from an MCP `inputSchema`."""
    if not isinstance(schema, dict):
        return {"type": "object", "properties": {}}
    cleaned = _sanitize({**schema, "type": "object"})
    result: dict[str, Any] = cleaned
    return result
